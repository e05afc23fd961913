package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// GUIOptions is what `maskinv gui` asks the desktop app to open with.
type GUIOptions struct {
	Folder string // photo folder to analyse at start; "": the demo photos
	// Models go into the comparison's slots: one model is model B (beside
	// the teacher as model A), two are models A and B.
	Models []GUIModel
}

// GUIModel is a --model of `maskinv gui`, resolved and on the model list.
type GUIModel struct {
	Label  string
	SHA256 string
}

// ErrNoDesktop is returned by `maskinv gui` when the binary was built
// without the desktop app (Stdio.Desktop nil: tests, headless tools).
var ErrNoDesktop = errors.New("no desktop app in this build")

func runGUI(ctx context.Context, args []string, stdio Stdio) error {
	fs := newFlagSet("gui", stdio.Err, "gui [--folder DIR] [--model M [--model M]]\n\n"+
		"Opens the desktop app (as maskinv with no command does) on a photo folder and with chosen models:\n"+
		"one --model is model B beside the teacher, two are models A and B. A model file is added to the\n"+
		"model list first, as 'maskinv models add' and the Models screen's Add button do (a model the engine\n"+
		"refuses is an error here, and the list is left as it was).\n")
	dir := fs.String("folder", "", "photo folder to analyse at start (default: the embedded demo photos)")
	models := &listFlag{}
	fs.Var(models, "model", modelHelp+"; at most twice")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("gui takes no arguments (got %q); the folder goes with --folder", fs.Arg(0))
	}
	if len(*models) > 2 {
		return usagef("--model given %d times; the workbench compares two models", len(*models))
	}
	opt := GUIOptions{Folder: *dir}
	if *dir != "" {
		if st, err := os.Stat(*dir); err != nil {
			return usagef("--folder: %v", err)
		} else if !st.IsDir() {
			return usagef("--folder %s is not a folder", *dir)
		}
	}
	for _, ref := range *models {
		m, err := guiModel(ctx, stdio, ref)
		if err != nil {
			return fmt.Errorf("--model %s: %w", ref, err)
		}
		opt.Models = append(opt.Models, m)
	}
	if stdio.Desktop == nil {
		return ErrNoDesktop
	}
	return stdio.Desktop(ctx, opt)
}

// guiModel resolves a --model of `maskinv gui`; a file is added to the
// model list (the app's pickers choose among the listed models).
func guiModel(ctx context.Context, stdio Stdio, ref string) (GUIModel, error) {
	c, err := resolveRef(stdio, ref)
	if err != nil {
		return GUIModel{}, err
	}
	if c.Source.Embedded() {
		return GUIModel{Label: c.Label, SHA256: c.SHA256}, nil
	}
	reg, err := openModelList(stdio)
	if err != nil {
		return GUIModel{}, err
	}
	e, _, err := reg.Add(ctx, c.Source.Path)
	if err != nil {
		return GUIModel{}, err
	}
	return GUIModel{Label: c.Label, SHA256: e.SHA256}, nil
}
