package ui

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/maskinv/workbench/assets"
)

// iconApp records SetIcon, which fyne's test app discards.
type iconApp struct {
	fyne.App
	icon fyne.Resource
}

func (a *iconApp) SetIcon(r fyne.Resource) { a.icon = r }

// The main window is checked against goldens in testdata/ (markup for
// structure, PNG for looks, both with fyne's test theme). On a mismatch fyne
// writes what it got to testdata/failed/; after a deliberate change, review
// that file and copy it over the golden.
func TestMainWindowGolden(t *testing.T) {
	a := &iconApp{App: test.NewTempApp(t)}
	w := NewMainWindow(a)
	defer w.Close()

	if got := w.Title(); got != Title {
		t.Errorf("title %q, want %q", got, Title)
	}
	if a.icon == nil || !bytes.Equal(a.icon.Content(), assets.Icon()) {
		t.Error("the app icon is not the embedded icon")
	}
	test.AssertRendersToMarkup(t, "main_window.xml", w.Canvas())
	test.AssertRendersToImage(t, "main_window.png", w.Canvas())
}

func TestScreensAreComplete(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewWindow(nil)
	defer w.Close()
	seen := map[string]bool{}
	for _, s := range Screens() {
		if s.Title == "" || s.Intro == "" || s.View == nil {
			t.Errorf("screen %q: title, intro and view are all required", s.Title)
			continue
		}
		if seen[s.Title] {
			t.Errorf("two screens titled %q", s.Title)
		}
		seen[s.Title] = true
		if s.View(w) == nil {
			t.Errorf("screen %q built no content", s.Title)
			continue
		}
		// A desktop window grows to fit its content's minimum size, and a
		// word-wrapped label's minimum height depends on the width it was
		// last laid out at: squeeze the page to its minimum width first, as
		// the desktop driver may, then measure. (fyne's test window never
		// grows, so the golden alone would miss an oversized page.)
		page := screenPage(w, s)
		page.Resize(page.MinSize())
		if min, size := page.MinSize(), defaultSize(); min.Width > size.Width || min.Height > size.Height {
			t.Errorf("screen %q needs %v, more than the window's %v: the window would open oversized", s.Title, min, size)
		}
	}
}

// fyne package names the .desktop entry and icon after FyneApp.toml's ID,
// while the running app uses AppID; they must agree for the desktop to match
// the window to its entry.
func TestAppIDMatchesFyneAppToml(t *testing.T) {
	b, err := os.ReadFile("../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	if want := `ID = "` + AppID + `"`; !strings.Contains(string(b), want) {
		t.Errorf("FyneApp.toml lacks %s", want)
	}
}
