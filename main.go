// Command maskinv is the MaskInv Workbench: with no arguments it opens the
// desktop app, otherwise it runs a headless subcommand ("maskinv help").
package main

import (
	"context"
	"os"
	"syscall"

	"github.com/maskinv/workbench/cli"
	_ "github.com/maskinv/workbench/internal/locale" // before Fyne reads the locale
	"github.com/maskinv/workbench/ui"
)

func main() {
	// Cancelling instead of dying lets a subcommand flush partial results
	// (then exit 130 or 143) and the GUI quit cleanly (status 0).
	ctx, stop := cli.SignalContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if len(os.Args) < 2 {
		ui.Run(ctx)
		stop()
		return
	}
	code := cli.Run(ctx, os.Args[1:], cli.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Desktop: desktop})
	stop()
	os.Exit(code)
}

// desktop runs the desktop app for `maskinv gui`.
func desktop(ctx context.Context, opt cli.GUIOptions) error {
	ui.RunWith(ctx, ui.Options{Folder: opt.Folder, Models: startModels(opt.Models)})
	return nil
}

func startModels(models []cli.GUIModel) []ui.StartModel {
	out := make([]ui.StartModel, len(models))
	for i, m := range models {
		out[i] = ui.StartModel{SHA256: m.SHA256}
	}
	return out
}
