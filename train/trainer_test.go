package train

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/dataset"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/childtest"
	"github.com/maskinv/workbench/model"
)

// synthFolder writes an identity folder of 112×112 "aligned" crops: smooth
// per-identity colour fields with noise, enough for a training step.
func synthFolder(t testing.TB, ids, per int) string {
	t.Helper()
	root := t.TempDir()
	r := rand.New(rand.NewSource(1))
	for i := 0; i < ids; i++ {
		dir := filepath.Join(root, string(rune('A'+i))+"_person")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		base := [3]int{r.Intn(200), r.Intn(200), r.Intn(200)}
		for j := 0; j < per; j++ {
			img := image.NewNRGBA(image.Rect(0, 0, 112, 112))
			for y := 0; y < 112; y++ {
				for x := 0; x < 112; x++ {
					img.SetNRGBA(x, y, color.NRGBA{uint8(base[0] + x/4 + r.Intn(20)), uint8(base[1] + y/4 + r.Intn(20)), uint8(base[2] + r.Intn(40)), 255})
				}
			}
			if err := imageio.WritePNG(filepath.Join(dir, string(rune('a'+j))+".png"), img); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// loadFolder reads an identity folder and its crops (aligned by align).
func loadFolder(t *testing.T, root string, align Aligner) (*Dataset, *Crops) {
	t.Helper()
	d, err := Open(dataset.Builtin(), "folder", root, nil)
	if err != nil {
		t.Fatal(err)
	}
	crops, err := LoadCrops(context.Background(), d, align, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return d, crops
}

func newTestTrainer(t *testing.T, root, out string) *Trainer {
	t.Helper()
	return newTestTrainerWith(t, root, out, func(*Config) {})
}

// newTestTrainerWith is newTestTrainer with its configuration changed by
// edit first.
func newTestTrainerWith(t *testing.T, root, out string, edit func(*Config)) *Trainer {
	t.Helper()
	ctx := context.Background()
	d, crops := loadFolder(t, root, nil)
	net, err := model.Decode("fr_feature.onnx", assets.Recognizer())
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Batch, cfg.MaxSteps, cfg.CheckpointEvery, cfg.Seed = 2, 4, 1, 7
	edit(&cfg)
	tr, err := New(ctx, net, net, d, crops, cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Prepare(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestResumeMatchesUninterrupted: two steps, a fresh process-like trainer
// resumed from the checkpoint and two more steps end with exactly the
// weights of four uninterrupted steps; the exported student decodes and
// computes what the trainable computes.
func TestResumeMatchesUninterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the recogniser for a few steps")
	}
	root := synthFolder(t, 3, 2)
	ctx := context.Background()
	outA, outB := t.TempDir(), t.TempDir()
	a := newTestTrainer(t, root, outA)
	var losses []Stats
	if err := a.Run(ctx, func(s Stats) { losses = append(losses, s) }); err != nil {
		t.Fatal(err)
	}
	if len(losses) != 4 || losses[3].Step != 4 || losses[0].KD < 0 || losses[0].Margin <= 0 {
		t.Fatalf("stats: %+v", losses)
	}

	b := newTestTrainer(t, root, outB)
	if err := b.RunUntil(ctx, 2, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(outB, StudentFile)); err == nil {
		t.Fatal("student exported before the run finished")
	}
	c := newTestTrainer(t, root, outB)
	ok, err := c.Resume()
	if err != nil || !ok || c.Step() != 2 {
		t.Fatalf("resume: ok=%v step=%d err=%v", ok, c.Step(), err)
	}
	if err := c.Run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	sameStudent(t, "resumed", c, a)
	for i := range a.head.W {
		if a.head.W[i] != c.head.W[i] {
			t.Fatalf("head[%d] differs after resume", i)
		}
	}

	// The exported student loads and matches the trained weights.
	exportMatches(t, a, outA, "trainable")
	// A checkpoint of another run is refused.
	cfgOther := newTestTrainer(t, root, outA)
	cfgOther.cfg.Seed = 99
	if _, err := cfgOther.Resume(); err == nil {
		t.Error("checkpoint of a different run accepted")
	}
}

// trainChildEnv, when set to DATA + os.PathListSeparator + OUT, makes
// TestKillResumesFromLastCheckpoint the child that gets killed.
const trainChildEnv = "MASKINV_TEST_TRAIN_CHILD"

// killConfig checkpoints by time only: every step, as the interval is
// shorter than any step, and never by step count.
func killConfig(c *Config) {
	c.MaxSteps, c.CheckpointEvery, c.CheckpointInterval = 6, 1000, time.Nanosecond
}

// TestKillResumesFromLastCheckpoint kills a training run (a child
// process, this test binary) with SIGKILL after its third checkpoint:
// a new trainer resumes from that checkpoint and ends with exactly the
// weights of an uninterrupted run.
func TestKillResumesFromLastCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the recogniser for a few steps")
	}
	if dirs := os.Getenv(trainChildEnv); dirs != "" {
		root, out, _ := strings.Cut(dirs, string(os.PathListSeparator))
		tr := newTestTrainerWith(t, root, out, killConfig)
		err := tr.Run(context.Background(), func(s Stats) {
			if s.CheckpointWritten {
				fmt.Fprintf(os.Stdout, "checkpoint %d\n", s.Step)
				time.Sleep(200 * time.Millisecond) // the parent kills now
			}
		})
		fmt.Fprintln(os.Stderr, "child finished:", err)
		os.Exit(0)
	}
	root := synthFolder(t, 3, 2)
	ctx := context.Background()
	a := newTestTrainerWith(t, root, t.TempDir(), killConfig)
	if err := a.Run(ctx, nil); err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	child := childtest.Start(t, []string{trainChildEnv + "=" + root + string(os.PathListSeparator) + out}, "-test.run=^TestKillResumesFromLastCheckpoint$", "-test.count=1")
	last := 0
	child.Each(func(line string) bool {
		if n, ok := strings.CutPrefix(line, "checkpoint "); ok {
			last, _ = strconv.Atoi(n)
			if last == 3 {
				if err := child.Cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
			}
		}
		return true
	})
	if code, err := child.Wait(); err != nil || code != -1 || last < 3 {
		t.Fatalf("child not killed after its third checkpoint (last checkpoint %d): exit %d, %v\n%s", last, code, err, child.Stderr.Bytes())
	}
	b := newTestTrainerWith(t, root, out, killConfig)
	ok, err := b.Resume()
	if err != nil || !ok || b.Step() != last {
		t.Fatalf("resume after the kill: ok=%v step=%d err=%v, want step %d (the last checkpoint)", ok, b.Step(), err, last)
	}
	if err := b.Run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	sameStudent(t, "resumed after a kill", b, a)
}

// sameStudent fails unless got's student has want's weights exactly
// (how names got in messages).
func sameStudent(t *testing.T, how string, got, want *Trainer) {
	t.Helper()
	pg, pw := got.Student().Params(), want.Student().Params()
	for i := range pw {
		for j := range pw[i].Value {
			if pg[i].Value[j] != pw[i].Value[j] {
				t.Fatalf("%s[%d]: %s %v, uninterrupted %v", pw[i].Name, j, how, pg[i].Value[j], pw[i].Value[j])
			}
		}
	}
}

// exportMatches fails unless the student tr exported into out (loaded by
// the inference engine) computes, on tr's first two images, what tr's
// student does to 1e-3 (what names that student in messages).
func exportMatches(t *testing.T, tr *Trainer, out, what string) {
	t.Helper()
	ctx := context.Background()
	exported, err := model.Load(filepath.Join(out, StudentFile))
	if err != nil {
		t.Fatal(err)
	}
	x, _, err := tr.studentInputs(0, []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := exported.Run(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	_, want, err := tr.Student().Step(ctx, x, func(out, grad []float32) float64 { return 0 })
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Data {
		if d := got[0].Data[i] - want.Data[i]; d > 1e-3 || d < -1e-3 {
			t.Fatalf("exported output %d = %v, %s %v", i, got[0].Data[i], what, want.Data[i])
		}
	}
}

// TestTrainingReducesLoss: a few steps on a fixed batch lower the loss.
func TestTrainingReducesLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the recogniser")
	}
	root := synthFolder(t, 2, 1)
	tr := newTestTrainer(t, root, t.TempDir())
	tr.cfg.MaskProb = 0
	tr.opt.Milestones = nil
	tr.opt.LR = 1e-4
	var first, last float64
	for s := 0; s < 6; s++ {
		tr.step = 0 // the same batch every time
		if err := tr.RunUntil(context.Background(), 1, func(st Stats) {
			if s == 0 {
				first = st.Loss
			}
			last = st.Loss
			t.Logf("loss %.4f margin %.4f kd %.4f norm %.3f", st.Loss, st.Margin, st.KD, st.GradNorm)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if !(last < first) {
		t.Errorf("loss %v → %v, want a decrease", first, last)
	}
}
