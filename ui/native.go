package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	sqdialog "github.com/sqweek/dialog"
)

// File pickers: the desktop's own dialog through sqweek/dialog (GTK on
// Linux), run from a goroutine because it blocks until the user answers;
// when it cannot open (no GTK, no display: sqweek panics then, which is
// caught), Fyne's own dialog instead. done runs on the UI goroutine with
// the chosen path, or is not called when the user cancels.

// nativeFolderPicker asks for a folder.
func (wb *Workbench) nativeFolderPicker(title string, done func(path string)) {
	go func() {
		path, err := nativeCall(func() (string, error) { return sqdialog.Directory().Title(title).Browse() })
		wb.do(func() {
			switch {
			case err == nil:
				done(path)
			case errors.Is(err, sqdialog.ErrCancelled):
			default:
				fyneFolderPicker(wb.win, done)
			}
		})
	}()
}

// nativeSavePicker asks for a file to write, suggesting name; ext is the
// extension without the dot, added when the user leaves it out.
func (wb *Workbench) nativeSavePicker(title, name, ext string, done func(path string)) {
	desc := strings.ToUpper(ext) + " files"
	go func() {
		path, err := nativeCall(func() (string, error) {
			return sqdialog.File().Title(title).Filter(desc, ext).SetStartFile(name).Save()
		})
		wb.do(func() {
			switch {
			case err == nil:
				done(withExt(path, ext))
			case errors.Is(err, sqdialog.ErrCancelled):
			default:
				fyneSavePicker(wb.win, name, ext, done)
			}
		})
	}()
}

// nativeOpenPicker asks for an existing file with extension ext (without
// the dot), described as desc.
func (wb *Workbench) nativeOpenPicker(title, desc, ext string, done func(path string)) {
	go func() {
		path, err := nativeCall(func() (string, error) {
			return sqdialog.File().Title(title).Filter(desc, ext).Load()
		})
		wb.do(func() {
			switch {
			case err == nil:
				done(path)
			case errors.Is(err, sqdialog.ErrCancelled):
			default:
				fyneOpenPicker(wb.win, ext, done)
			}
		})
	}()
}

// nativeCall runs a sqweek dialog, turning its panic when GTK could not
// start into an error.
func nativeCall(open func() (string, error)) (path string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("native dialog unavailable: %v", r)
		}
	}()
	return open()
}

func fyneFolderPicker(w fyne.Window, done func(string)) {
	d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil {
			dialog.ShowError(err, w)
			return
		}
		if u != nil {
			done(u.Path())
		}
	}, w)
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

func fyneOpenPicker(w fyne.Window, ext string, done func(string)) {
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil {
			dialog.ShowError(err, w)
			return
		}
		if rc == nil {
			return
		}
		path := rc.URI().Path()
		rc.Close()
		done(path)
	}, w)
	d.SetFilter(storage.NewExtensionFileFilter([]string{"." + ext}))
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

func fyneSavePicker(w fyne.Window, name, ext string, done func(string)) {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			dialog.ShowError(err, w)
			return
		}
		if wc == nil {
			return
		}
		// Fyne created the file; the export replaces it atomically.
		path := wc.URI().Path()
		wc.Close()
		if full := withExt(path, ext); full != path {
			os.Remove(path) // the empty file Fyne made under the bare name
			path = full
		}
		done(path)
	}, w)
	d.SetFileName(name)
	d.SetFilter(storage.NewExtensionFileFilter([]string{"." + ext}))
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

// withExt adds .ext to path unless it has an extension already.
func withExt(path, ext string) string {
	if filepath.Ext(path) == "" {
		return path + "." + ext
	}
	return path
}
