package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Interrupted is the cause (context.Cause) of a context that SignalContext
// cancelled. A command it stops exits with the status a shell gives a
// process killed by that signal, 128 + its number: 130 for Ctrl-C (SIGINT),
// 143 for SIGTERM. Scripts can then tell "stopped" from "failed" (1).
type Interrupted struct{ Signal os.Signal }

func (e Interrupted) Error() string { return signalName(e.Signal) + " received" }

// Is makes an interruption a cancellation (errors.Is(err,
// context.Canceled)), as signal.NotifyContext's cause is.
func (e Interrupted) Is(target error) bool { return target == context.Canceled }

// ExitCode is 128 + the signal's number.
func (e Interrupted) ExitCode() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// SignalContext is signal.NotifyContext whose cause says which signal
// arrived (Interrupted), which signal.NotifyContext gives only as text.
// Cancelling instead of dying lets a command flush partial results and the
// GUI quit cleanly; stop restores the default handling.
func SignalContext(parent context.Context, sigs ...os.Signal) (ctx context.Context, stop context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case s := <-ch:
			cancel(Interrupted{Signal: s})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(nil)
	}
}

// exitStatus reports how command name ended, on stderr, and returns the
// process exit code: 0, 2 for usage errors, 128 + n when signal n stopped it
// (its error is then only the cancellation, unless it is another one), and 1
// for any other error.
func exitStatus(ctx context.Context, name string, err error, stderr io.Writer) int {
	if err == nil {
		return 0 // finished, even if a signal came at the very end
	}
	var in Interrupted
	if errors.As(context.Cause(ctx), &in) {
		if !errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "maskinv %s: %v\n", name, err)
		}
		fmt.Fprintf(stderr, "maskinv %s: cancelled by %s\n", name, signalName(in.Signal))
		return in.ExitCode()
	}
	fmt.Fprintf(stderr, "maskinv %s: %v\n", name, err)
	if errors.Is(err, ErrUsage) {
		return 2
	}
	return 1
}
