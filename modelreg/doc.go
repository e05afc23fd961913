// Package modelreg is the model manager's back end: the list of recogniser
// ONNX models a researcher has added (name, file, sha256, input layout,
// output dimension, FLOPs, verification threshold and how it was
// obtained), kept per model hash in a JSON file in the user's config
// folder. The embedded models, the teacher and the student, are always on
// the list and cannot be removed.
//
// A Registry is a value naming its file; every change is a locked
// read-modify-write (an in-process mutex and, on Unix, an flock on a lock
// file beside it, so the CLI and the desktop app may change the list at
// once) ending in an atomic rename, so the file is always either the old
// list or the new one. A model that the engine cannot load, or whose input
// is not N×3×112×112, is refused with the engine's error and the file is
// not touched.
//
// The file (schema "maskinv-models/1"):
//
//	{"schema": "maskinv-models/1", "models": [
//	  {"name": "student.onnx", "path": "/abs/path/student.onnx", "sha256": "<64 hex>",
//	   "input": [1, 3, 112, 112], "layout": "...", "output_dim": 512, "flops": 4.42e8,
//	   "threshold": 0.31, "threshold_source": "lfw-view2",
//	   "calibration": {"dataset": "LFW View 2", "pairs": 6000, "fold_thresholds": [...10],
//	                   "accuracy": 0.9908, "accuracy_std": 0.004},
//	   "added": "2026-12-05T12:00:00Z"}]}
//
// An embedded model appears with "embedded": true and no path only once
// its threshold has been changed; otherwise List adds it with its
// published one.
package modelreg
