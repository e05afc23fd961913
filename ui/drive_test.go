package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/maskinv/workbench/engine"
)

// TestChooseStartModels: `maskinv gui --model` puts one model in slot B,
// two in slots A and B (the teacher in A as the default, ""), and a
// choice keeps the embedded student from becoming model B over it.
func TestChooseStartModels(t *testing.T) {
	teacher, err := engine.Teacher().SHA256()
	if err != nil {
		t.Fatal(err)
	}
	student, err := engine.Student().SHA256()
	if err != nil {
		t.Fatal(err)
	}
	const other = "0123456789abcdef"
	tests := []struct {
		name      string
		models    []string
		want      [2]string
		defaulted bool
	}{
		{"none", nil, [2]string{"", ""}, false},
		{"student", []string{student}, [2]string{"", student}, true},
		{"teacher and another", []string{teacher, other}, [2]string{"", other}, true},
		{"another and the student", []string{other, student}, [2]string{other, student}, true},
	}
	for _, tt := range tests {
		wb := newWorkbench(test.NewTempWindow(t, nil))
		var opt Options
		for _, sha := range tt.models {
			opt.Models = append(opt.Models, StartModel{SHA256: sha})
		}
		chooseStartModels(wb, opt)
		if wb.models.chosen != tt.want || wb.models.defaulted != tt.defaulted {
			t.Errorf("%s: slots %q, defaulted %v; want %q, %v", tt.name, wb.models.chosen, wb.models.defaulted, tt.want, tt.defaulted)
		}
	}
}
