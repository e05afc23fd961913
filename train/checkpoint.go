package train

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"

	"github.com/maskinv/workbench/imageio"
)

// checkpoint is everything a run needs to continue where it stopped: the
// step, the student's weights (BatchNorm statistics included), the head
// and the optimiser's momentum. The data order, flips, masks and margin
// draws are functions of (seed, step), so they need no saving.
type checkpoint struct {
	Version     int
	Step, Steps int
	Fingerprint string
	Params      map[string][]float32
	Head        []float64
	Velocity    map[string][]float64
}

const checkpointVersion = 1

// ErrCheckpoint marks a checkpoint that does not belong to this run.
var ErrCheckpoint = errors.New("checkpoint does not match this run")

// fingerprint names what a checkpoint must agree on to be resumed.
func (t *Trainer) fingerprint() string {
	return fmt.Sprintf("items=%d classes=%d batch=%d steps=%d seed=%d loss=%s w=%g mask=%s p=%g scratch=%v lr=%g photo=%d×%g",
		len(t.data.Items), t.data.Classes(), t.cfg.Batch, t.steps, t.cfg.Seed, t.cfg.LossName, t.cfg.KDWeight,
		t.cfg.Mask.Style, t.cfg.MaskProb, t.cfg.FromScratch, t.cfg.LR, t.cfg.PhotoMasks, t.cfg.PhotoMaskShare)
}

// CheckpointPath is where the run's checkpoint lives.
func (t *Trainer) CheckpointPath() string { return filepath.Join(t.out, CheckpointFile) }

// SaveCheckpoint writes the checkpoint atomically (temporary file, sync,
// rename): an interrupted write leaves the previous checkpoint intact.
// Velocity holds the optimiser's (the head's) and the student's momentum,
// by name, wherever the student trains.
func (t *Trainer) SaveCheckpoint() error {
	if err := t.student.Pull(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	c := checkpoint{Version: checkpointVersion, Step: t.step, Steps: t.steps, Fingerprint: t.fingerprint(),
		Params: map[string][]float32{}, Head: t.head.W, Velocity: map[string][]float64{}}
	for name, v := range t.opt.Velocity {
		c.Velocity[name] = v
	}
	for _, p := range t.student.Params() {
		c.Params[p.Name] = p.Value
		if p.Velocity != nil {
			c.Velocity[p.Name] = p.Velocity
		}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&c); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.MkdirAll(t.out, 0o755); err != nil {
		return err
	}
	return imageio.WriteAtomic(t.CheckpointPath(), func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// Resume loads the run's checkpoint if there is one and reports whether it
// did; a checkpoint of a different run is an error wrapping ErrCheckpoint.
func (t *Trainer) Resume() (bool, error) {
	data, err := os.ReadFile(t.CheckpointPath())
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var c checkpoint
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&c); err != nil {
		return false, fmt.Errorf("%s: %w", t.CheckpointPath(), err)
	}
	if c.Version != checkpointVersion || c.Fingerprint != t.fingerprint() {
		return false, fmt.Errorf("%s: %w: it has %q, this run %q", t.CheckpointPath(), ErrCheckpoint, c.Fingerprint, t.fingerprint())
	}
	if len(c.Head) != len(t.head.W) {
		return false, fmt.Errorf("%s: %w: head size", t.CheckpointPath(), ErrCheckpoint)
	}
	velocity := maps.Clone(c.Velocity)
	for _, p := range t.student.Params() {
		v, ok := c.Params[p.Name]
		if !ok || len(v) != len(p.Value) {
			return false, fmt.Errorf("%s: %w: weight %s", t.CheckpointPath(), ErrCheckpoint, p.Name)
		}
		if p.Velocity != nil {
			m, ok := velocity[p.Name]
			if ok && len(m) != len(p.Velocity) {
				return false, fmt.Errorf("%s: %w: momentum of %s has %d values, weight %d", t.CheckpointPath(), ErrCheckpoint, p.Name, len(m), len(p.Velocity))
			}
			copy(p.Velocity, m) // none: at rest (a checkpoint before the first step)
			if !ok {
				clear(p.Velocity)
			}
			delete(velocity, p.Name)
		}
		copy(p.Value, v)
	}
	if err := t.student.Push(); err != nil {
		return false, err
	}
	copy(t.head.W, c.Head)
	t.opt.Velocity = velocity
	t.step = c.Step
	return true, nil
}

// ExportTo writes the student as ONNX, atomically.
func (t *Trainer) ExportTo(path string) error {
	data, err := t.student.Export()
	if err != nil {
		return err
	}
	return imageio.WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
