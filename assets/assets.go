// Package assets holds the files compiled into the maskinv binary: the
// default face models (detector, 68-point landmarker, recogniser), the
// project's mask-invariant student recogniser, their licence and
// provenance, and the app icon.
//
// The files are embedded so the binary works with no install step and no
// network. Every accessor returns a fresh copy, so no caller can change what
// another caller sees. The package does not import fyne: the GUI wraps
// Icon() in a resource itself, and headless code links no GUI toolkit.
package assets

import (
	"embed"
	"fmt"
	"io/fs"
)

// The icon is drawn by scripts/genicon; models/PROVENANCE.md says where the
// models come from and lists their hashes.
//
//go:embed icon.png models/*.onnx models/LICENSE models/PROVENANCE.md
var files embed.FS

// demo is the built-in photo folder: one subfolder per person.
//
//go:embed demo
var demo embed.FS

// read returns a copy of an embedded file. The file list is fixed at build
// time, so a missing name is a programmer error and panics.
func read(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("assets: %v", err))
	}
	return b
}

// Recognizer returns the default face recogniser (ONNX): a 112×112 RGB face
// aligned to the ArcFace 5-point template in, a 512-d embedding out. See
// models/PROVENANCE.md for the exact pre-processing.
func Recognizer() []byte { return read("models/fr_feature.onnx") }

// Student returns the project's mask-invariant student recogniser (ONNX):
// a fine-tune of Recognizer on masked and unmasked LFW faces, with the
// same graph, input and 512-d output. See models/PROVENANCE.md for how it
// was trained and how it scores against the teacher.
func Student() []byte { return read("models/maskinv_student.onnx") }

// Detector returns the default face detector (ONNX): a 320×240 BGR image in,
// 4420 candidate boxes with scores out.
func Detector() []byte { return read("models/fr_detect.onnx") }

// Landmarker returns the default landmark model (ONNX): a 64×64 grey face
// crop in, 68 points relative to the crop out.
func Landmarker() []byte { return read("models/fr_landmark.onnx") }

// License returns the MIT licence that covers the models (the student is
// a fine-tune of the MIT recogniser); it must ship with any binary that
// embeds them.
func License() string { return string(read("models/LICENSE")) }

// Provenance returns models/PROVENANCE.md: the models' origin, hashes,
// inputs and outputs.
func Provenance() string { return string(read("models/PROVENANCE.md")) }

// Icon returns the app icon, a 512×512 PNG.
func Icon() []byte { return read("icon.png") }

// Demo returns the built-in demo photo folder (four people, three photos
// each, from LFW; see demo/SOURCE.md), rooted so that paths read
// "Name/Name_0001.jpg". An fs.FS is read-only by construction.
func Demo() fs.FS {
	sub, err := fs.Sub(demo, "demo")
	if err != nil {
		panic(fmt.Sprintf("assets: %v", err)) // fixed at build time
	}
	return sub
}
