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
	// View builds the screen's content from the workbench (the window,
	// the analysed folder, the actions); it must not hold business logic
	// (that lives in app).
	View func(wb *Workbench) fyne.CanvasObject
}

// Screens lists the views in navigation order. It is a function so that no
// table is shared mutable state.
func Screens() []Screen {
	return []Screen{
		{
			Title: "Compare",
			Intro: "Cosine similarity of every pair of photos, unmasked and masked, on one colour scale.",
			View:  compareScreen,
		},
		{
			Title: "Photos",
			Intro: "The folder's photos with the face found in each; photos that failed, with the reason.",
			View:  photosScreen,
		},
		{
			Title: "Masks",
			Intro: "Mask style, colour, seed and shift, previewed live on the selected face.",
			View:  masksScreen,
		},
		{
			Title: "Statistics",
			Intro: "Genuine and impostor scores per setting, error rates, and the decisions masks flip.",
			View:  statsScreen,
		},
		{
			Title: "Models",
			Intro: "The recognisers to compare: the embedded teacher and student and the ONNX models you add, with their thresholds.",
			View:  modelsScreen,
		},
		{
			Title: "About",
			Intro: "Face recognition that holds up when the lower face is covered.",
			View:  aboutScreen,
		},
	}
}

const welcomeText = `MaskInv Workbench is a research bench for mask-invariant face recognition.

Open a photo folder (one subfolder per person, or LFW-style Name_0001.jpg
files), and it finds each face, aligns it, draws a synthetic mask on the
aligned crop and compares every pair of photos: unmasked against unmasked,
unmasked against masked, masked against masked. The demo folder built into
the program is analysed at start.

• Compare: the three similarity heatmaps; hover a cell, click it to inspect.
• Photos: thumbnails with the face found, and the photos that failed.
• Masks: style, colour, seed and shift with a live preview; apply to all,
  or write a masked copy of the folder.
• Statistics: score histograms, EER and FMR100, and the flipped decisions.

Everything runs locally with the models built into this program. The same
pipelines are available headless: run "maskinv help" in a terminal
(maskinv compare renders the same comparison to a PNG).`

func welcomeScreen(*Workbench) fyne.CanvasObject {
	logo := canvas.NewImageFromResource(iconResource())
	logo.FillMode = canvas.ImageFillContain
	logo.SetMinSize(fyne.NewSquareSize(128))
	text := widget.NewLabel(welcomeText)
	text.Wrapping = fyne.TextWrapWord
	// A word-wrapped label asks for the height of one word per line; the
	// scroller keeps that from stretching the window off the screen.
	return container.NewBorder(nil, nil, container.NewVBox(logo), nil, container.NewVScroll(text))
}
