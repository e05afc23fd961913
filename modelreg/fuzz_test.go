package modelreg

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	var good bytes.Buffer
	entries := []Entry{
		{Name: "student.onnx", Path: "/runs/student.onnx", SHA256: strings.Repeat("ab", 32), Input: []int{1, 3, 112, 112}, Layout: Layout,
			OutputDim: 512, FLOPs: 4.4e8, Threshold: 0.3, ThresholdSource: ThresholdLFW,
			Calibration: &Calibration{Dataset: "LFW View 2", Pairs: 6000, FoldThresholds: []float64{0.3}}, Added: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{Name: "teacher", SHA256: strings.Repeat("cd", 32), Embedded: true, Threshold: 0.25, ThresholdSource: ThresholdManual},
	}
	if err := encode(&good, entries); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte(`{"schema":"maskinv-models/1","models":[]}`))
	f.Add([]byte(`{"schema":"maskinv-models/1","models":[{"name":"a","path":"/a","sha256":"` + strings.Repeat("0", 64) + `","threshold_source":"none"}]}`))
	f.Add([]byte(``))
	f.Add([]byte(`{"schema":"maskinv-models/1","models":null} {}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := parse(data, "models.json")
		if err != nil {
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "models.json") {
				t.Fatalf("error %v: want ErrCorrupt naming the file", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := encode(&buf, list); err != nil {
			t.Fatal(err)
		}
		again, err := parse(buf.Bytes(), "again.json")
		if err != nil {
			t.Fatalf("a list that parsed does not parse after encoding: %v", err)
		}
		if len(list) != 0 && !reflect.DeepEqual(again, list) {
			t.Fatalf("round trip changed the list:\n%+v\n%+v", list, again)
		}
	})
}

// TestParseRefuses lists files the parser must refuse.
func TestParseRefuses(t *testing.T) {
	h := strings.Repeat("ab", 32)
	one := `{"name":"a","path":"/a","sha256":"` + h + `","threshold_source":"none"`
	entry := func(fields string) string {
		return `{"schema":"maskinv-models/1","models":[` + one + fields + `}]}`
	}
	if _, err := parse([]byte(entry("")), "models.json"); err != nil {
		t.Fatalf("the base entry is refused: %v", err)
	}
	for name, data := range map[string]string{
		"schema":           `{"schema":"maskinv-models/0","models":[]}`,
		"short hash":       strings.Replace(entry(""), h, "abc", 1),
		"upper-case hash":  strings.Replace(entry(""), h, strings.ToUpper(h), 1),
		"no name":          strings.Replace(entry(""), `"name":"a"`, `"name":""`, 1),
		"no path":          strings.Replace(entry(""), `"path":"/a"`, `"path":""`, 1),
		"embedded path":    entry(`,"embedded":true`),
		"threshold > 1":    strings.Replace(entry(`,"threshold":2`), `"none"`, `"manual"`, 1),
		"none with value":  entry(`,"threshold":0.3`),
		"unknown source":   strings.Replace(entry(""), `"none"`, `"guess"`, 1),
		"lfw, no record":   strings.Replace(entry(""), `"none"`, `"lfw-view2"`, 1),
		"unknown field":    entry(`,"colour":"red"`),
		"negative dim":     entry(`,"output_dim":-1`),
		"trailing data":    entry("") + `{}`,
		"duplicate":        `{"schema":"maskinv-models/1","models":[` + one + `},` + one + `}]}`,
		"not JSON":         `models`,
		"overflowing FLOP": entry(`,"flops":1e999`),
	} {
		_, err := parse([]byte(data), "models.json")
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %s: error %v, want ErrCorrupt", name, data, err)
		}
	}
}
