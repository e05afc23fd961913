package cli

import (
	"flag"
	"fmt"
	"strings"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/maskgen"
)

// engineFlags are the flags of the commands that run the face engine:
// --model and, for those that decide "same person", --threshold.
type engineFlags struct {
	model     *string
	threshold *float64 // nil: the command decides nothing
}

func addEngineFlags(fs *flag.FlagSet, decides bool) engineFlags {
	e := engineFlags{model: fs.String("model", "", "recogniser ONNX (N×3×112×112 input); default: the embedded one")}
	if decides {
		e.threshold = fs.Float64("threshold", 0, fmt.Sprintf("decision threshold on cosine similarity (default %.4f for the embedded recogniser; required with --model)", engine.DefaultThreshold))
	}
	return e
}

// check refuses --model without --threshold: the default threshold
// belongs to the embedded recogniser.
func (e engineFlags) check() error {
	if e.threshold != nil && *e.model != "" && *e.threshold == 0 {
		return usagef("--model needs --threshold (the default %.4f belongs to the embedded recogniser)", engine.DefaultThreshold)
	}
	return nil
}

// load loads the engine with the chosen recogniser and threshold.
func (e engineFlags) load() (*engine.Engine, error) {
	eng, err := engine.Load(engine.Options{RecogniserPath: *e.model})
	if err != nil {
		return nil, err
	}
	if e.threshold != nil && *e.threshold != 0 {
		eng.Threshold = *e.threshold
	}
	return eng, nil
}

// addAlignedFlag is --aligned: inputs are aligned crops, no detection.
func addAlignedFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("aligned", false, "inputs are 112×112 crops already aligned to the ArcFace template")
}

// maskFlags are the synthetic-mask flags that mask, compare and train share.
// mask names them --style/--color; the others, which have other styles and
// colours to talk about, --mask-style/--mask-color.
type maskFlags struct {
	style, color, shift  *string
	seed                 *uint64
	styleFlag, colorFlag string
}

// addMaskFlags defines the flags; withShift adds --shift (a fixed paper
// shift), which training does not offer.
func addMaskFlags(fs *flag.FlagSet, prefix, seedHelp string, withShift bool) maskFlags {
	m := maskFlags{styleFlag: prefix + "style", colorFlag: prefix + "color"}
	m.style = fs.String(m.styleFlag, maskgen.StyleSpec{}.String(), "mask style: "+strings.Join(maskgen.Styles(), ", ")+", random, or mix:NAME=W,... (e.g. mix:surgical=0.5,n95=0.3,cloth=0.2)")
	m.color = fs.String(m.colorFlag, "auto", "mask colour: auto (each style's own), random, a name ("+strings.Join(maskgen.ColorNames(), ", ")+") or #RRGGBB")
	m.seed = fs.Uint64("seed", 0, seedHelp)
	if withShift {
		m.shift = fs.String("shift", "random", fmt.Sprintf("%s style: X,Y fixed shift of the template in template pixels (%d per aligned-crop pixel; +Y moves the mask up), or random (the protocol's)",
			strings.Join(maskgen.ShiftStyles(), ", "), maskgen.TemplateScale))
	}
	return m
}

// config parses the flags' values; errors are usage errors naming the flag.
func (m maskFlags) config() (maskgen.Config, error) {
	spec, err := maskgen.ParseStyle(*m.style)
	if err != nil {
		return maskgen.Config{}, usagef("--%s: %v", m.styleFlag, err)
	}
	cs, err := maskgen.ParseColor(*m.color)
	if err != nil {
		return maskgen.Config{}, usagef("--%s: %v", m.colorFlag, err)
	}
	var sh *maskgen.Shift
	if m.shift != nil {
		if sh, err = maskgen.ParseShift(*m.shift); err != nil {
			return maskgen.Config{}, usagef("--shift: %v", err)
		}
	}
	return maskgen.Config{Style: spec, Color: cs, Seed: *m.seed, Shift: sh}, nil
}
