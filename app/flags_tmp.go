package app

import "flag"

// engineFlags are the flags every command that runs the face engine shares.
type engineFlags struct {
	aligned *bool
	model   *string
}

func addEngineFlags(fs *flag.FlagSet) engineFlags {
	return engineFlags{
		aligned: fs.Bool("aligned", false, "inputs are 112×112 crops already aligned to the ArcFace template"),
		model:   fs.String("model", "", "recogniser ONNX (N×3×112×112 input); default: the embedded one"),
	}
}
