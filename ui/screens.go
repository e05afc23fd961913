package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// Screen is one view of the workbench. Adding a view means adding one entry
// to Screens; the window builds its navigation from the table.
type Screen struct {
	Title, Intro string
	// View builds the screen's content. It gets the window so that it can
	// open dialogs; it must not hold business logic (that lives in app).
	View func(w fyne.Window) fyne.CanvasObject
}

// Screens lists the views in navigation order. It is a function so that no
// table is shared mutable state.
func Screens() []Screen {
	return []Screen{
		{
			Title: "Welcome",
			Intro: "Face recognition that holds up when the lower face is covered.",
			View:  welcomeScreen,
		},
	}
}

const welcomeText = `MaskInv Workbench is a research bench for mask-invariant face recognition.

It will let you:
• detect faces, find 68 landmarks and align each face;
• draw synthetic masks of several styles onto aligned faces;
• compute embeddings with the bundled recogniser and compare pairs;
• evaluate verification on LFW and MFR2, with and without masks.

Everything runs locally with the models built into this program. The same
pipelines are available headless: run "maskinv help" in a terminal.`

func welcomeScreen(fyne.Window) fyne.CanvasObject {
	logo := canvas.NewImageFromResource(iconResource())
	logo.FillMode = canvas.ImageFillContain
	logo.SetMinSize(fyne.NewSquareSize(128))
	text := widget.NewLabel(welcomeText)
	text.Wrapping = fyne.TextWrapWord
	// A word-wrapped label asks for the height of one word per line; the
	// scroller keeps that from stretching the window off the screen.
	return container.NewBorder(nil, nil, container.NewVBox(logo), nil, container.NewVScroll(text))
}
