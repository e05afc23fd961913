// Package childtest runs a test binary again as a child process that a
// test can kill or signal at a chosen line of its output. Kill -9 and
// exit-status checks need a real process: a goroutine cannot be killed.
package childtest

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"testing"
)

// Child is a started process; Stderr collects its standard error.
type Child struct {
	Cmd    *exec.Cmd
	Stderr bytes.Buffer
	lines  *bufio.Scanner
}

// Start runs this test binary with args (e.g. "-test.run=^TestX$") and
// env added to the environment, reading its standard output line by line.
func Start(tb testing.TB, env []string, args ...string) *Child {
	tb.Helper()
	c := &Child{Cmd: exec.Command(os.Args[0], args...)}
	c.Cmd.Env = append(os.Environ(), env...)
	c.Cmd.Stderr = &c.Stderr
	out, err := c.Cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.Cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if c.Cmd.ProcessState == nil {
			_ = c.Cmd.Process.Kill()
			_ = c.Cmd.Wait()
		}
	})
	c.lines = bufio.NewScanner(out)
	return c
}

// Each calls f with each line of standard output until f returns false or
// the output ends, and returns the number of lines read.
func (c *Child) Each(f func(line string) bool) int {
	n := 0
	for c.lines.Scan() {
		n++
		if !f(c.lines.Text()) {
			break
		}
	}
	return n
}

// Wait reads the rest of standard output, waits for the process and
// returns its exit code: -1 when a signal killed it, as after Kill.
func (c *Child) Wait() (code int, err error) {
	c.Each(func(string) bool { return true })
	err = c.Cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}
