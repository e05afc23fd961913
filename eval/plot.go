package eval

import (
	"fmt"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/maskinv/workbench/imageio"
)

// Protocol is one named set of scored pairs (e.g. "blr-m": unmasked probe
// against masked gallery), drawn as one line of a chart. Failed pairs
// should already carry FailedScore (see Columns).
type Protocol struct {
	Name   string
	Scores []float64
	Same   []bool
}

// dpi is fixed so that PNG pixel sizes follow from the requested sizes
// exactly.
const dpi = 96

// ROCPlot draws TAR against FAR on linear axes, one line per protocol,
// with its AUC in the legend.
func ROCPlot(protos []Protocol) (*plot.Plot, error) {
	p := newPlot("ROC", "FAR (false accept rate)", "TAR (true accept rate)")
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	for i, pr := range protos {
		c, err := ROC(pr.Scores, pr.Same)
		if err != nil {
			return nil, fmt.Errorf("protocol %q: %w", pr.Name, err)
		}
		xy := make(plotter.XYs, len(c.Points))
		for k, pt := range c.Points {
			xy[k] = plotter.XY{X: pt.FAR, Y: pt.TAR}
		}
		if err := addLine(p, xy, i, false, fmt.Sprintf("%s (AUC %.4f)", pr.Name, c.AUC())); err != nil {
			return nil, err
		}
	}
	p.Legend.Left, p.Legend.Top = false, false
	return p, nil
}

// DETPlot draws FNMR against FMR on log-log axes (chosen over probit axes
// because gonum/plot has log scales built in and low-FMR behaviour, the
// point of a DET, reads the same on both). Points with a zero rate cannot
// be placed on a log axis and are left out; the axes start one decade
// below the smallest positive rate, at least 1e-6.
func DETPlot(protos []Protocol) (*plot.Plot, error) {
	p := newPlot("DET", "FMR (false match rate)", "FNMR (false non-match rate)")
	minX, minY := 1.0, 1.0
	for i, pr := range protos {
		c, err := ROC(pr.Scores, pr.Same)
		if err != nil {
			return nil, fmt.Errorf("protocol %q: %w", pr.Name, err)
		}
		var xy plotter.XYs
		for _, d := range c.DET() {
			if d.FMR > 0 && d.FNMR > 0 {
				xy = append(xy, plotter.XY{X: d.FMR, Y: d.FNMR})
				minX, minY = math.Min(minX, d.FMR), math.Min(minY, d.FNMR)
			}
		}
		eer, _ := c.EER()
		name := fmt.Sprintf("%s (EER %.4f)", pr.Name, eer)
		if len(xy) == 0 {
			// Perfectly separated: nothing to draw, but keep the legend
			// entry so the protocol is not silently missing.
			p.Legend.Add(name + " no errors")
			continue
		}
		if err := addLine(p, xy, i, false, name); err != nil {
			return nil, err
		}
	}
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.X.Min, p.X.Max = decadeBelow(minX), 1
	p.Y.Min, p.Y.Max = decadeBelow(minY), 1
	p.Legend.Left, p.Legend.Top = true, false
	return p, nil
}

// WriteROC writes ROCPlot(protos) to path as a PNG; see WritePNG.
func WriteROC(path string, protos []Protocol, width, height int) error {
	return writePlot(path, ROCPlot, protos, width, height)
}

// WriteDET writes DETPlot(protos) to path as a PNG; see WritePNG.
func WriteDET(path string, protos []Protocol, width, height int) error {
	return writePlot(path, DETPlot, protos, width, height)
}

func writePlot(path string, build func([]Protocol) (*plot.Plot, error), protos []Protocol, width, height int) error {
	p, err := build(protos)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return WritePNG(path, p, width, height)
}

// WritePNG renders p as a width×height pixel PNG and writes it to path
// atomically (imageio.WriteAtomic), so a reader never sees a half-written
// chart. It panics on non-positive sizes.
func WritePNG(path string, p *plot.Plot, width, height int) error {
	if width <= 0 || height <= 0 {
		panic(fmt.Sprintf("eval: plot size %dx%d", width, height))
	}
	c := vgimg.NewWith(
		vgimg.UseWH(vg.Length(width)*vg.Inch/dpi, vg.Length(height)*vg.Inch/dpi),
		vgimg.UseDPI(dpi),
	)
	p.Draw(draw.New(c))

	err := imageio.WriteAtomic(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	return p
}

// addLine adds one line in the i-th colour, dashed when asked, with a
// legend entry.
func addLine(p *plot.Plot, xy plotter.XYs, i int, dashed bool, name string) error {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return fmt.Errorf("line %q: %w", name, err)
	}
	l.LineStyle.Color = plotutil.Color(i)
	l.LineStyle.Width = vg.Points(1.5)
	if dashed {
		l.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

// decadeBelow returns the power of ten one decade below x, at least 1e-6.
func decadeBelow(x float64) float64 {
	return math.Max(math.Pow(10, math.Floor(math.Log10(x))-1), 1e-6)
}
