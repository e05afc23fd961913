// Package ui is the desktop front end. It lays out screens and hands user
// actions to package app, which holds every pipeline; app never imports ui,
// so everything the GUI can do stays scriptable headless.
package ui

import (
	"context"
	"os"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/assets"
)

const (
	// AppID is the unique application ID (preferences, storage). It must
	// equal ID in FyneApp.toml, after which `fyne package`
	// names the .desktop entry and icon; passing it to NewWithID keeps
	// plain `go build` binaries, which carry no metadata, on the same ID.
	AppID = "io.github.maskinv.workbench"
	// Title is the main window's title; the GUI smoke test finds the
	// window by it.
	Title = "MaskInv Workbench"
)

// defaultSize is the main window's opening size. A desktop window grows to
// its content's minimum size, so screens must fit inside it.
func defaultSize() fyne.Size { return fyne.NewSize(1000, 720) }

// Run opens the main window, analyses the demo folder in the background,
// and blocks until the window is closed or ctx is done. It must be called
// from the main goroutine, as the GL driver requires. Environment
// variables drive it headless (see drive.go): MASKINV_FOLDER,
// MASKINV_AUTOEXPORT, MASKINV_PROBE.
func Run(ctx context.Context) { RunWith(ctx, Options{}) }

// Options are what the app opens with (`maskinv gui`): a photo folder
// and models for the comparison's slots.
type Options struct {
	Folder string // analysed at start; "": the embedded demo photos
	// Models: one is model B (beside the teacher), two are models A and B.
	Models []StartModel
}

// StartModel is a model on the model list to open the app with.
type StartModel struct {
	SHA256 string
}

// RunWith is Run on the folder and with the models opt names.
func RunWith(ctx context.Context, opt Options) {
	a := fyneapp.NewWithID(AppID)
	w, wb := newMainWindow(a)
	defer wb.cleanup()
	// Quit on SIGINT/SIGTERM (main cancels ctx) instead of dying mid-frame.
	stop := context.AfterFunc(ctx, func() { fyne.Do(a.Quit) })
	defer stop()
	wb.reloadModels()
	start(wb, opt, os.Getenv)
	w.ShowAndRun()
	wb.cancelJob()
}

// NewMainWindow builds the main window from the screen table without
// showing it or loading a folder, so tests can render it with fyne's test
// app. It sets the icon on the app rather than the window so that every
// later window and the taskbar entry inherit it.
func NewMainWindow(a fyne.App) fyne.Window {
	w, _ := newMainWindow(a)
	return w
}

func newMainWindow(a fyne.App) (fyne.Window, *Workbench) {
	a.SetIcon(iconResource())
	w := a.NewWindow(Title)
	w.SetMaster()
	wb := newWorkbench(w)
	screens := Screens()
	tabs := make([]*container.TabItem, len(screens))
	for i, s := range screens {
		tabs[i] = container.NewTabItem(s.Title, screenPage(wb, s))
	}
	w.SetMainMenu(fyne.NewMainMenu(fyne.NewMenu("File",
		fyne.NewMenuItem("Open folder…", wb.onOpenFolder),
		fyne.NewMenuItem("Export PNG…", wb.onExportPNG),
		fyne.NewMenuItem("Export CSV…", wb.onExportCSV),
		fyne.NewMenuItem("Create masked dataset…", wb.onCreateDataset),
	)))
	wb.tabs = container.NewAppTabs(tabs...)
	w.SetContent(container.NewBorder(nil, wb.statusBar(), nil, nil, wb.tabs))
	w.Resize(defaultSize())
	return w, wb
}

// screenPage puts a screen's title and intro above its view, so every
// screen opens the same way.
func screenPage(wb *Workbench, s Screen) fyne.CanvasObject {
	title := widget.NewLabel(s.Title)
	title.TextStyle = fyne.TextStyle{Bold: true}
	title.SizeName = theme.SizeNameHeadingText
	// One line, cut with an ellipsis when narrow: a word-wrapped label in a
	// VBox asks for the height of its narrowest layout and leaves a gap.
	intro := widget.NewLabel(s.Intro)
	intro.Truncation = fyne.TextTruncateEllipsis
	head := container.NewVBox(title, intro, widget.NewSeparator())
	return container.NewBorder(head, nil, nil, nil, s.View(wb))
}

// iconResource wraps the embedded icon for fyne; assets itself stays free of
// fyne so headless code does not link it.
func iconResource() fyne.Resource {
	return fyne.NewStaticResource("icon.png", assets.Icon())
}
