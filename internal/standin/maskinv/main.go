// Command maskinv here is the stand-in of package standin, built by
// scripts/slurm-test when it is given no maskinv binary.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/maskinv/workbench/internal/standin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := standin.Run(ctx, os.Args[1:], standin.Env{Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "maskinv (stand-in):", err)
		if ctx.Err() != nil {
			os.Exit(143)
		}
		os.Exit(1)
	}
}
