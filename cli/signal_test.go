package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExitStatus(t *testing.T) {
	interrupted := func(s syscall.Signal) context.Context {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(Interrupted{Signal: s})
		return ctx
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	canceledErr := fmt.Errorf("embed: %w", context.Canceled)
	tests := []struct {
		name    string
		ctx     context.Context
		err     error
		code    int
		say     []string // on stderr
		notSaid string
	}{
		{"success", context.Background(), nil, 0, nil, "maskinv"},
		{"failure", context.Background(), errors.New("no image could be embedded"), 1, []string{"maskinv embed: no image could be embedded"}, ""},
		{"usage", context.Background(), usagef("no images given"), 2, []string{"maskinv embed: usage: no images given"}, ""},
		{"SIGINT", interrupted(syscall.SIGINT), canceledErr, 130, []string{"maskinv embed: cancelled by SIGINT"}, "context canceled"},
		{"SIGTERM", interrupted(syscall.SIGTERM), canceledErr, 143, []string{"maskinv embed: cancelled by SIGTERM"}, "context canceled"},
		{"SIGINT and another error", interrupted(syscall.SIGINT), errors.New("write out.json: disk full"), 130,
			[]string{"maskinv embed: write out.json: disk full", "cancelled by SIGINT"}, ""},
		{"finished despite SIGINT", interrupted(syscall.SIGINT), nil, 0, nil, "maskinv"},
		{"cancelled, not by a signal", cancelled, canceledErr, 1, []string{"maskinv embed: embed: context canceled"}, "cancelled by"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := exitStatus(tc.ctx, "embed", tc.err, &stderr); got != tc.code {
				t.Errorf("exit status %d, want %d", got, tc.code)
			}
			for _, s := range tc.say {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr %q does not say %q", stderr.String(), s)
				}
			}
			if tc.notSaid != "" && strings.Contains(stderr.String(), tc.notSaid) {
				t.Errorf("stderr %q says %q", stderr.String(), tc.notSaid)
			}
		})
	}
}

// TestSignalContext sends this process SIGINT: the context is cancelled
// with the signal as its cause, and still reads as a cancellation.
func TestSignalContext(t *testing.T) {
	ctx, stop := SignalContext(context.Background(), os.Interrupt)
	defer stop()
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if err := self.Signal(os.Interrupt); err != nil {
		t.Skipf("cannot signal this process: %v", err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Minute):
		t.Fatal("SIGINT did not cancel the context")
	}
	var in Interrupted
	if cause := context.Cause(ctx); !errors.As(cause, &in) || in.ExitCode() != 130 || !errors.Is(cause, context.Canceled) {
		t.Errorf("cause %v (%T), want Interrupted by SIGINT (exit 130), a cancellation", cause, cause)
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("ctx.Err() = %v", ctx.Err())
	}
}
