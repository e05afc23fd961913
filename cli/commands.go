package cli

import "github.com/maskinv/workbench/train"

// registered returns every subcommand; each one's code lives in
// cmd_<name>.go.
func registered() []Command {
	return []Command{
		{Name: "compare", Summary: "similarity heatmaps of a photo folder, unmasked and masked, as a PNG (and CSV)", Run: runCompare},
		{Name: "embed", Summary: "detect, align and embed faces (one JSON line per image, or an embedding store)", Run: runEmbed},
		evalCommand(loadEvalEngine),
		{Name: "gui", Summary: "the desktop app on a photo folder with chosen models (maskinv alone opens it on the demo)", Run: runGUI},
		{Name: "find", Summary: "search a gallery (embedding store or photo folder) for the faces most like query photos", Run: runFind},
		maskCommand(nil),
		{Name: "models", Summary: "the model list: add recognisers, set or calibrate their thresholds on LFW, remove them", Run: runModels},
		{Name: "occlusion", Summary: "occlusion maps: where on two faces each model's similarity comes from, unmasked and masked (PNG, JSON)", Run: runOcclusion},
		{Name: "merge", Summary: "join the shards of an array job: embedding stores, or mask manifests", Run: runMerge},
		trainCommand(train.Run),
		{Name: "verify", Summary: "are two photos the same person? (cosine score and decision)", Run: runVerify},
		{Name: "devices", Summary: "list the compute devices --device can choose (the CPU engine, OpenCL GPUs), or say why there is none", Run: runDevices},
	}
}
