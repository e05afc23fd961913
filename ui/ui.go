// Package ui is the desktop front end. It lays out screens and hands user
// actions to package app, which holds every pipeline; app never imports ui,
// so everything the GUI can do stays scriptable headless.
package ui

import (
	"context"

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
func defaultSize() fyne.Size { return fyne.NewSize(800, 560) }

// Run opens the main window and blocks until it is closed or ctx is done.
// It must be called from the main goroutine, as the GL driver requires.
func Run(ctx context.Context) {
	a := fyneapp.NewWithID(AppID)
	w := NewMainWindow(a)
	// Quit on SIGINT/SIGTERM (main cancels ctx) instead of dying mid-frame.
	stop := context.AfterFunc(ctx, func() { fyne.Do(a.Quit) })
	defer stop()
	w.ShowAndRun()
}

// NewMainWindow builds the main window from the screen table without
// showing it, so tests can render it with fyne's test app. It sets the icon
// on the app rather than the window so that every later window and the
// taskbar entry inherit it.
func NewMainWindow(a fyne.App) fyne.Window {
	a.SetIcon(iconResource())
	w := a.NewWindow(Title)
	w.SetMaster()
	screens := Screens()
	tabs := make([]*container.TabItem, len(screens))
	for i, s := range screens {
		tabs[i] = container.NewTabItem(s.Title, screenPage(w, s))
	}
	w.SetContent(container.NewAppTabs(tabs...))
	w.Resize(defaultSize())
	return w
}

// screenPage puts a screen's title and intro above its view, so every
// screen opens the same way.
func screenPage(w fyne.Window, s Screen) fyne.CanvasObject {
	title := widget.NewLabel(s.Title)
	title.TextStyle = fyne.TextStyle{Bold: true}
	title.SizeName = theme.SizeNameHeadingText
	// One line, cut with an ellipsis when narrow: a word-wrapped label in a
	// VBox asks for the height of its narrowest layout and leaves a gap.
	intro := widget.NewLabel(s.Intro)
	intro.Truncation = fyne.TextTruncateEllipsis
	head := container.NewVBox(title, intro, widget.NewSeparator())
	return container.NewBorder(head, nil, nil, nil, s.View(w))
}

// iconResource wraps the embedded icon for fyne; assets itself stays free of
// fyne so headless code does not link it.
func iconResource() fyne.Resource {
	return fyne.NewStaticResource("icon.png", assets.Icon())
}
