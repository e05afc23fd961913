// Package render draws the workbench's pictures into an *image.NRGBA with
// no GUI toolkit, the way image/draw does: similarity heatmaps, colour
// scales and their legends, score histograms, text, rectangles and
// thumbnails. `maskinv compare`, `maskinv eval --report` and the desktop
// app's views all draw through it, so a picture looks the same on screen
// and in an export.
//
// Text needs fonts, and fonts cache glyphs: a *Fonts is that cache. Make
// one with NewFonts and pass it to whatever draws text; it is safe for
// concurrent use, and nothing in the package holds one of its own.
package render
