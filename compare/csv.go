package compare

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/maskinv/workbench/imageio"
)

// WriteCSV writes one line per pair of rows i < j: the two photos, whether
// they share an identity (yes, no, or empty when unknown), the four scores
// (unmasked; A unmasked vs B masked; A masked vs B unmasked; both masked)
// and the settings under which the decision at the threshold differs from
// the unmasked one.
func (c *Comparison) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("photo_a,photo_b,identity_a,identity_b,same_identity,unmasked,unmasked_masked,masked_unmasked,masked,threshold,flipped\n")
	uu, um, mm := c.Scores[SettingUU], c.Scores[SettingUM], c.Scores[SettingMM]
	t := c.Threshold
	ts := strconv.FormatFloat(t, 'f', -1, 64)
	var line []byte
	for i := range c.N() {
		a := c.Row(i)
		for j := i + 1; j < c.N(); j++ {
			b := c.Row(j)
			line = line[:0]
			line = appendCSVField(line, a.Key)
			line = append(line, ',')
			line = appendCSVField(line, b.Key)
			line = append(line, ',')
			line = appendCSVField(line, a.Identity)
			line = append(line, ',')
			line = appendCSVField(line, b.Identity)
			line = append(line, ',')
			if c.Known {
				if a.Identity == b.Identity {
					line = append(line, "yes"...)
				} else {
					line = append(line, "no"...)
				}
			}
			base := uu.At(i, j) >= t
			var flipped []string
			for k, v := range []float64{uu.At(i, j), um.At(i, j), um.At(j, i), mm.At(i, j)} {
				line = append(line, ',')
				line = strconv.AppendFloat(line, v, 'f', 5, 32)
				if (v >= t) != base {
					flipped = append(flipped, [...]string{"", "unmasked_masked", "masked_unmasked", "masked"}[k])
				}
			}
			line = append(line, ',')
			line = append(line, ts...)
			line = append(line, ',')
			line = append(line, strings.Join(flipped, " ")...)
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// WriteCSVFile writes WriteCSV's output to path atomically. It writes
// nothing, and fails with ErrNoFaces, when no photo has a face.
func (c *Comparison) WriteCSVFile(path string) error {
	if err := c.CheckRows(c.Source); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return imageio.WriteAtomic(path, c.WriteCSV)
}

func appendCSVField(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\n\r") {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}
