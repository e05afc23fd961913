package train

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"image"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"time"

	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/model"
)

// Config is one training run's settings. DefaultConfig gives the issue's.
type Config struct {
	Epochs int
	Batch  int
	// MaxSteps stops the run early (0: Epochs full epochs); the schedule
	// is laid out over the steps actually run.
	MaxSteps int
	LR       float64
	// Milestones are fractions of the run's steps at which the rate is
	// multiplied by Gamma.
	Milestones  []float64
	Gamma       float64
	Momentum    float64
	WeightDecay float64
	ClipNorm    float64
	KDWeight    float64 // w of the distillation term
	Loss        Margin
	LossName    string
	Mask        maskgen.Config
	MaskProb    float64 // probability that the student's input is masked
	// PhotoMasks is how many photo-masked crops (LoadPhotoMasks) to make
	// per photo, and PhotoMaskShare the share of masked inputs taken from
	// them rather than masked on the aligned crop.
	PhotoMasks     int
	PhotoMaskShare float64
	Seed           uint64
	// FromScratch initialises the student randomly instead of from the
	// teacher's weights.
	FromScratch     bool
	CheckpointEvery int // steps between checkpoints (0: 100)
	// CheckpointInterval also writes a checkpoint when this long has
	// passed since the last one (0: 2 minutes), so that a kill loses a
	// bounded time of work however slow the steps (a large teacher).
	CheckpointInterval time.Duration
	// ExportCheckpoints also writes student-stepNNNNNN.onnx at every
	// checkpoint, to evaluate a run while it goes on.
	ExportCheckpoints bool
	// Device runs the student's training steps (forward, backward, SGD)
	// and, in Run, the teacher; nil or model.CPU() is the CPU engine. The
	// caller opens and closes it. A checkpoint does not depend on it: a
	// run may resume on another device.
	Device *model.Device
}

// DefaultConfig is SGD with momentum 0.9, weight decay 5e-4, learning rate
// 0.003 (fine-tuning from the teacher; the demo's) divided by 10 at 60% and
// 85% of the run, gradient norm clipped at 5, ElasticFace-Arc+, w = 100,
// masks on half the student's inputs (half of those photo masks, two per
// photo), batch 32, 3 epochs.
func DefaultConfig() Config {
	m, _ := ParseMargin("elastic-arc+")
	return Config{Epochs: 3, Batch: 32, LR: 0.003, Milestones: []float64{0.6, 0.85}, Gamma: 0.1,
		Momentum: 0.9, WeightDecay: 5e-4, ClipNorm: 5, KDWeight: 100, Loss: m, LossName: "elastic-arc+",
		MaskProb: 0.5, PhotoMasks: 2, PhotoMaskShare: 0.5, CheckpointEvery: 100, CheckpointInterval: 2 * time.Minute}
}

// Stats reports one step.
type Stats struct {
	Step, Steps, Epoch int // Step is 1-based: steps done
	Loss, Margin, KD   float64
	LR, GradNorm       float64
	ImagesPerSecond    float64
	Elapsed, Remaining time.Duration
	// HostLoss is the part of Elapsed spent in the loss on the host (the
	// margin head and distillation, forward and gradients), which stays
	// on the CPU whatever device trains the student.
	HostLoss          time.Duration
	CheckpointWritten bool
}

// Trainer distils a frozen teacher into a student on masked faces.
type Trainer struct {
	cfg     Config
	teacher face.Runner
	student model.Learner
	head    *Head
	opt     *SGD
	data    *Dataset
	crops   *Crops
	out     string
	step    int
	steps   int
	perEp   int
	tcache  map[int][]float32 // teacher embedding per item×2+flip
}

// Checkpoint and export file names inside the output directory.
const (
	CheckpointFile = "checkpoint.gob"
	StudentFile    = "student.onnx"
)

// New prepares a run: the student is a trainable copy of studentNet (the
// teacher's own net unless another architecture is wanted) on cfg.Device,
// initialised from its weights or, with FromScratch, randomly. The head starts from the
// teacher's class centres (mean normalised teacher embedding per identity)
// when the student starts from the teacher, so that the margin loss begins
// where the features already are; randomly otherwise.
func New(ctx context.Context, teacher face.Runner, studentNet *model.Net, d *Dataset, crops *Crops, cfg Config, out string) (_ *Trainer, err error) {
	if cfg.Batch < 2 {
		return nil, fmt.Errorf("batch %d: want at least 2", cfg.Batch)
	}
	if len(d.Items) < cfg.Batch {
		return nil, fmt.Errorf("%d training images, fewer than one batch of %d", len(d.Items), cfg.Batch)
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = 100
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = 2 * time.Minute
	}
	st, err := cfg.Device.Trainable(studentNet, cfg.Batch)
	if err != nil {
		return nil, err
	}
	t := &Trainer{cfg: cfg, teacher: teacher, student: st, data: d, crops: crops, out: out, tcache: map[int][]float32{}}
	defer func() {
		if err != nil {
			_ = t.Close() // the error that stopped New is the one to report
		}
	}()
	t.perEp = len(d.Items) / cfg.Batch
	t.steps = t.perEp * cfg.Epochs
	if cfg.MaxSteps > 0 && cfg.MaxSteps < t.steps {
		t.steps = cfg.MaxSteps
	}
	var ms []int
	for _, f := range cfg.Milestones {
		ms = append(ms, int(f*float64(t.steps)))
	}
	t.opt = &SGD{LR: cfg.LR, Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay, Milestones: ms, Gamma: cfg.Gamma, ClipNorm: cfg.ClipNorm}
	r := rand.New(rand.NewSource(int64(cfg.Seed)))
	if cfg.FromScratch {
		initRandom(st.Params(), r)
		if err := st.Push(); err != nil {
			return nil, err
		}
	}
	rows, err := t.runTeacher(ctx, []*image.NRGBA{unpackRGB(crops.Data[0], false)})
	if err != nil {
		return nil, err
	}
	dim := st.Features()
	if len(rows[0]) != dim {
		return nil, fmt.Errorf("teacher embeds into %d dimensions, student into %d: distillation needs equal sizes", len(rows[0]), dim)
	}
	t.head = NewHead(d.Classes(), dim, r)
	return t, nil
}

// Steps is the length of the run; Step the steps done so far.
func (t *Trainer) Steps() int { return t.steps }
func (t *Trainer) Step() int  { return t.step }

// Student is the network being trained. On a device its Params are host
// copies: Pull them first.
func (t *Trainer) Student() model.Learner { return t.student }

// Device names the device the student trains on.
func (t *Trainer) Device() string {
	if t.cfg.Device == nil {
		return "cpu"
	}
	return t.cfg.Device.String()
}

// Close releases the student's device memory (nothing on the CPU engine).
func (t *Trainer) Close() error {
	if c, ok := t.student.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// initHeadFromTeacher sets each class weight to the mean of its images'
// normalised teacher embeddings (unflipped, unmasked).
func (t *Trainer) initHeadFromTeacher(ctx context.Context, progress func(done, total int)) error {
	n := len(t.data.Items)
	idx := make([]int, n)
	flips := make([]bool, n)
	for i := range idx {
		idx[i] = i
	}
	chunk := t.cfg.Batch
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		if _, err := t.teacherEmbeddings(ctx, idx[lo:hi], flips[lo:hi]); err != nil {
			return err
		}
		if progress != nil {
			progress(hi, n)
		}
	}
	clear(t.head.W)
	d := t.head.Dim
	for i, it := range t.data.Items {
		e := t.tcache[2*i]
		var s float64
		for _, v := range e {
			s += float64(v) * float64(v)
		}
		s = math.Max(math.Sqrt(s), 1e-12)
		row := t.head.W[it.Label*d : (it.Label+1)*d]
		for j, v := range e {
			row[j] += float64(v) / s
		}
	}
	return nil
}

// initRandom is He-normal initialisation for convolution and dense
// weights, zero biases, PReLU slopes 0.25 and neutral BatchNorm.
func initRandom(params []model.Param, r *rand.Rand) {
	for _, p := range params {
		v := p.Value
		switch {
		case (p.Op == "Conv" || p.Op == "Gemm" || p.Op == "MatMul") && p.Input == 1:
			fan := 1
			for _, d := range p.Shape[1:] {
				fan *= d
			}
			std := math.Sqrt(2 / float64(max(fan, 1)))
			for i := range v {
				v[i] = float32(std * r.NormFloat64())
			}
		case p.Op == "PRelu":
			for i := range v {
				v[i] = 0.25
			}
		case p.Op == "BatchNormalization" && (p.Input == 1 || p.Input == 4):
			for i := range v {
				v[i] = 1
			}
		default:
			clear(v)
		}
	}
}

// teacherEmbeddings returns the teacher's embedding of each (item, flip),
// computing the missing ones in one batch and caching them.
func (t *Trainer) teacherEmbeddings(ctx context.Context, items []int, flips []bool) ([][]float32, error) {
	var missing []int
	var crops []*image.NRGBA
	for k, i := range items {
		key := 2*i + b2i(flips[k])
		if _, ok := t.tcache[key]; !ok {
			missing = append(missing, key)
			crops = append(crops, unpackRGB(t.crops.Data[i], flips[k]))
		}
	}
	if len(missing) > 0 {
		rows, err := t.runTeacher(ctx, crops)
		if err != nil {
			return nil, err
		}
		for j, key := range missing {
			t.tcache[key] = rows[j]
		}
	}
	out := make([][]float32, len(items))
	for k, i := range items {
		out[k] = t.tcache[2*i+b2i(flips[k])]
	}
	return out, nil
}

// runTeacher embeds crops with the teacher in chunks of at most a batch,
// each padded to a power of two: a Net keeps one graph (and its buffers)
// per batch size, so the sizes it sees must be few. The smallest size is
// 2: the engine splits a batch smaller than the core count across cores,
// which can change an embedding's last bits with its batch-mates; on up to
// two cores every image of a batch of two or more takes the same path, so
// a resumed run recomputes bit-identical teacher embeddings there (on more
// cores, equal to rounding).
func (t *Trainer) runTeacher(ctx context.Context, crops []*image.NRGBA) ([][]float32, error) {
	var rows [][]float32
	for lo := 0; lo < len(crops); lo += t.cfg.Batch {
		chunk := crops[lo:min(lo+t.cfg.Batch, len(crops))]
		size := 2
		for size < len(chunk) {
			size *= 2
		}
		padded := append([]*image.NRGBA(nil), chunk...)
		for len(padded) < size {
			padded = append(padded, chunk[0])
		}
		outs, err := t.teacher.Run(ctx, face.RecogniserInput(padded))
		if err != nil {
			return nil, err
		}
		dim := len(outs[0].Data) / size
		for j := range chunk {
			rows = append(rows, outs[0].Data[j*dim:(j+1)*dim:(j+1)*dim])
		}
	}
	return rows, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mix hashes numbers into a seed, so that every random choice of the run
// depends only on (seed, what it is for), not on the order of the calls:
// a resumed run makes exactly the choices the uninterrupted one made.
func mix(vals ...uint64) int64 {
	h := fnv.New64a()
	for _, v := range vals {
		var b [8]byte
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		h.Write(b[:])
	}
	return int64(h.Sum64() >> 1)
}

// batchAt returns the item indices of a step: each epoch is a fresh
// permutation of the items, cut into full batches.
func (t *Trainer) batchAt(step int) (epoch int, items []int) {
	epoch = step / t.perEp
	pos := step % t.perEp
	perm := rand.New(rand.NewSource(mix(t.cfg.Seed, 1, uint64(epoch)))).Perm(len(t.data.Items))
	return epoch, perm[pos*t.cfg.Batch : (pos+1)*t.cfg.Batch]
}

// studentInputs makes the batch: each item is mirrored with probability
// 0.5 (the same flip for teacher and student) and, for the student, masked
// with probability MaskProb: with probability PhotoMaskShare by one of the
// item's photo-masked crops (when it has some), else on its aligned crop.
func (t *Trainer) studentInputs(epoch int, items []int) (model.Tensor, []bool, error) {
	crops := make([]*image.NRGBA, len(items))
	flips := make([]bool, len(items))
	errs := make([]error, len(items))
	parallelRows(len(items), func(k int) {
		i := items[k]
		r := rand.New(rand.NewSource(mix(t.cfg.Seed, 2, uint64(epoch), uint64(i))))
		flips[k] = r.Float64() < 0.5
		masked := r.Float64() < t.cfg.MaskProb
		if masked && t.cfg.PhotoMaskShare > 0 && i < len(t.crops.Masked) && len(t.crops.Masked[i]) > 0 &&
			r.Float64() < t.cfg.PhotoMaskShare {
			variants := t.crops.Masked[i]
			crops[k] = unpackRGB(variants[r.Intn(len(variants))], flips[k])
			return
		}
		crop := unpackRGB(t.crops.Data[i], flips[k])
		if masked {
			key := fmt.Sprintf("%s#%d", t.data.Items[i].Key, epoch)
			res, err := t.cfg.Mask.ApplyAligned(crop, key)
			if err != nil {
				errs[k] = err
				return
			}
			crop = res.Image
		}
		crops[k] = crop
	})
	for _, err := range errs {
		if err != nil {
			return model.Tensor{}, nil, err
		}
	}
	return face.RecogniserInput(crops), flips, nil
}

// Prepare initialises the head from the teacher (unless training from
// scratch or resuming, which loads it).
func (t *Trainer) Prepare(ctx context.Context, progress func(done, total int)) error {
	if t.cfg.FromScratch {
		return nil
	}
	return t.initHeadFromTeacher(ctx, progress)
}

// Run trains from the current step to the end (or until ctx is cancelled,
// after writing a checkpoint), reporting every step, then exports the
// student to out/student.onnx.
func (t *Trainer) Run(ctx context.Context, report func(Stats)) error {
	return t.RunUntil(ctx, t.steps, report)
}

// RunUntil trains up to step stop (exclusive of later steps), writing a
// checkpoint at every CheckpointEvery steps, after a step that ends
// CheckpointInterval or more after the last checkpoint, when stopping, and
// when ctx is cancelled; it exports the student when the run is complete.
func (t *Trainer) RunUntil(ctx context.Context, stop int, report func(Stats)) error {
	if err := os.MkdirAll(t.out, 0o755); err != nil {
		return err
	}
	stop = min(stop, t.steps)
	start, first := time.Now(), t.step
	lastSave := start
	var hostLoss time.Duration
	dW := make([]float64, len(t.head.W))
	for t.step < stop {
		if err := ctx.Err(); err != nil {
			if cerr := t.SaveCheckpoint(); cerr != nil {
				return errors.Join(err, cerr)
			}
			return err
		}
		epoch, items := t.batchAt(t.step)
		x, flips, err := t.studentInputs(epoch, items)
		if err != nil {
			return err
		}
		tEmb, err := t.teacherEmbeddings(ctx, items, flips)
		if err != nil {
			return err
		}
		sl := t.newStepLoss(items, tEmb, dW)
		total, _, err := t.student.Step(ctx, x, func(out, grad []float32) float64 {
			t0 := time.Now()
			defer func() { hostLoss += time.Since(t0) }()
			return sl.loss(out, grad)
		})
		if err != nil {
			return err
		}
		lr := t.opt.Rate(t.step)
		norm, err := t.opt.Step(t.step, t.trainableVars(dW), t.student)
		if err != nil {
			return err
		}
		t.step++
		saved := false
		if t.step%t.cfg.CheckpointEvery == 0 || t.step == stop || time.Since(lastSave) >= t.cfg.CheckpointInterval {
			if err := t.SaveCheckpoint(); err != nil {
				return err
			}
			lastSave = time.Now()
			if err := t.exportStepCheckpoint(); err != nil {
				return err
			}
			saved = true
		}
		if report != nil {
			el := time.Since(start)
			per := el / time.Duration(t.step-first)
			report(Stats{Step: t.step, Steps: t.steps, Epoch: epoch + 1, Loss: total, Margin: sl.margin, KD: sl.kd,
				LR: lr, GradNorm: norm, ImagesPerSecond: float64((t.step-first)*t.cfg.Batch) / el.Seconds(),
				Elapsed: el, Remaining: per * time.Duration(t.steps-t.step), HostLoss: hostLoss, CheckpointWritten: saved})
		}
	}
	if t.step >= t.steps {
		return t.ExportTo(filepath.Join(t.out, StudentFile))
	}
	return nil
}

// stepLoss holds one step's targets and keeps the two loss terms of the
// last evaluation, so the step's Stats can report them separately.
type stepLoss struct {
	t       *Trainer
	teacher []float64 // teacher embeddings, row-major, len(items)*Dim
	labels  []int
	mr      *rand.Rand
	dW      []float64 // head gradient, filled by the margin loss
	margin  float64
	kd      float64
}

// newStepLoss gathers the targets of one batch. The margin loss's random
// source is seeded by the step so a resumed run draws the same numbers.
func (t *Trainer) newStepLoss(items []int, tEmb [][]float32, dW []float64) *stepLoss {
	d := t.head.Dim
	teacher := make([]float64, len(items)*d)
	for k, e := range tEmb {
		for j, v := range e {
			teacher[k*d+j] = float64(v)
		}
	}
	labels := make([]int, len(items))
	for k, i := range items {
		labels[k] = t.data.Items[i].Label
	}
	mr := rand.New(rand.NewSource(mix(t.cfg.Seed, 3, uint64(t.step))))
	return &stepLoss{t: t, teacher: teacher, labels: labels, mr: mr, dW: dW}
}

// loss is the student's loss callback: margin loss plus distillation, with
// the gradient with respect to the student's output written into grad.
func (s *stepLoss) loss(out, grad []float32) float64 {
	t := s.t
	emb := make([]float64, len(out))
	for i, v := range out {
		emb[i] = float64(v)
	}
	dEmb := make([]float64, len(out))
	dKD := make([]float64, len(out))
	s.margin = t.head.Loss(t.cfg.Loss, emb, s.labels, s.mr, dEmb, s.dW)
	s.kd = KD(t.cfg.KDWeight, emb, s.teacher, t.head.Dim, dKD)
	for i := range grad {
		grad[i] = float32(dEmb[i] + dKD[i])
	}
	return s.margin + s.kd
}

// trainableVars lists the host tensors the optimiser updates: the head (the
// student updates its own weights, where they live).
func (t *Trainer) trainableVars(dW []float64) []Var {
	return []Var{{Name: "head", F64: t.head.W, G64: dW}}
}

// exportStepCheckpoint writes, when asked, an ONNX export of the student at
// this step next to the resumable checkpoint.
func (t *Trainer) exportStepCheckpoint() error {
	if t.cfg.ExportCheckpoints {
		return t.ExportTo(filepath.Join(t.out, fmt.Sprintf("student-step%06d.onnx", t.step)))
	}
	return nil
}
