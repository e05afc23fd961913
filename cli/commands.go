package cli

// registered returns every subcommand; each one's code lives in
// cmd_<name>.go.
func registered() []Command {
	return []Command{
		{Name: "compare", Summary: "similarity heatmaps of a photo folder, unmasked and masked, as a PNG (and CSV)", Run: runCompare},
		{Name: "embed", Summary: "detect, align and embed faces (one JSON line per image)", Run: runEmbed},
		evalCommand(loadEvalEngine),
		maskCommand(nil),
		{Name: "train", Summary: "distil a mask-invariant student from a recogniser (ElasticFace + template KD)", Run: runTrain},
		{Name: "verify", Summary: "are two photos the same person? (cosine score and decision)", Run: runVerify},
	}
}
