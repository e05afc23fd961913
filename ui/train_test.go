package ui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/train"
)

// TestTrainStudent: the Train student dialog runs train.Run on a folder
// (two steps here), shows the logged steps as progress and the loss
// curve, and adds the student it wrote to the model list; a run cancelled
// at once adds nothing.
func TestTrainStudent(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two steps of a student: skipped with -short")
	}
	data := filepath.Join(t.TempDir(), "people")
	if err := os.CopyFS(data, assets.Demo()); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "run")
	_, wb, ui := modelsWorkbench(t, filepath.Join(t.TempDir(), "models.json"))
	var td *trainDialog
	ui(func() {
		test.Tap(wb.modelsView.train)
		td = wb.trainDialog
		td.config = func() train.Config {
			c := train.DefaultConfig()
			c.MaxSteps, c.PhotoMasks, c.MaskProb = 2, 0, 0.5
			return c
		}
		td.data.SetText(data)
		td.out.SetText(out)
		td.epochs.SetText("1")
		td.batch.SetText("4")
	})
	done, jobErr := jobWaiter(wb)
	ui(func() { test.Tap(td.start) })
	wait(t, done, "training")
	if *jobErr != nil {
		t.Fatal(*jobErr)
	}
	student := filepath.Join(out, train.StudentFile)
	ui(func() {
		// After the embedded teacher and student.
		if len(wb.models.list) != 3 || wb.models.list[2].Path != student || wb.modelsView.selected != 2 {
			t.Fatalf("after training: %d models listed", len(wb.models.list))
		}
		if !strings.HasPrefix(td.last.Text, "student written to ") || !strings.Contains(td.job.status.Text, "added to the model list") {
			t.Errorf("last log line %q, status %q", td.last.Text, td.job.status.Text)
		}
	})
	td.mu.Lock()
	losses := len(td.losses)
	td.mu.Unlock()
	if losses == 0 {
		t.Error("no loss on the curve")
	}

	// Cancelled at once: nothing is added.
	done, jobErr = jobWaiter(wb)
	ui(func() {
		td.out.SetText(filepath.Join(t.TempDir(), "run2"))
		test.Tap(td.start)
		test.Tap(td.job.cancelBt)
	})
	wait(t, done, "the cancelled training")
	if !errors.Is(*jobErr, context.Canceled) || len(wb.models.list) != 3 {
		t.Errorf("cancelled: %v, %d models listed", *jobErr, len(wb.models.list))
	}
}
