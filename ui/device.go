package ui

import (
	"context"
	"fmt"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/model"
	"github.com/maskinv/workbench/progress"
)

// engineSlot holds the workbench's engine: loaded on first use on the
// chosen device (MASKINV_DEVICE, else auto), replaced when the user picks
// another device, and closed once no job still runs on it.
type engineSlot struct {
	// use is held for reading by every job while it runs (runJob), and
	// for writing to close a replaced engine: closing waits for the jobs
	// that may still run on it.
	use      sync.RWMutex
	retiring sync.WaitGroup // replaced engines not closed yet
	load     sync.Mutex     // one engine load at a time

	mu      sync.Mutex // guards what follows
	spec    model.DeviceSpec
	specErr error // MASKINV_DEVICE did not parse: auto was taken
	eng     *engine.Engine
	err     error
	loaded  bool
	infos   []model.DeviceInfo // the OpenCL devices, listed at the first load
	listErr error              // why there are none
	listed  bool
	// onLoad, when set, is called (from the loading goroutine) after each
	// load: the device panel refreshes then.
	onLoad func()
	// beforeClose, when set, is called with a replaced engine once its
	// jobs have ended, before it is closed: models bound to its device
	// besides its own are released then.
	beforeClose func(*engine.Engine)
}

// setBeforeClose sets the function called before a replaced engine closes.
func (s *engineSlot) setBeforeClose(f func(*engine.Engine)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeClose = f
}

// setOnLoad sets the function called after each load.
func (s *engineSlot) setOnLoad(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onLoad = f
}

// newEngineSlot takes the device from the environment's MASKINV_DEVICE,
// as the commands do; a value that does not parse is reported in the
// device panel, and auto is used.
func newEngineSlot(getenv func(string) string) *engineSlot {
	s := &engineSlot{}
	s.spec, s.specErr = model.ParseDeviceSpec(getenv(model.DeviceEnv))
	if s.specErr != nil {
		s.spec, _ = model.ParseDeviceSpec("auto")
		s.specErr = fmt.Errorf("%s: %w; using auto", model.DeviceEnv, s.specErr)
	}
	return s
}

// hold marks a job running on the current engine until release.
func (s *engineSlot) hold() (release func()) {
	s.use.RLock()
	return s.use.RUnlock
}

// get returns the engine, loading it on the chosen device the first time
// (and listing the OpenCL devices for the panel). It may be called from
// any goroutine; a load error stays until another device is chosen.
func (s *engineSlot) get() (*engine.Engine, error) {
	s.load.Lock()
	defer s.load.Unlock()
	s.mu.Lock()
	eng, err, loaded, spec := s.eng, s.err, s.loaded, s.spec
	s.mu.Unlock()
	if loaded {
		return eng, err
	}
	eng, err = engine.Load(engine.Options{Device: &spec})
	s.mu.Lock()
	s.eng, s.err, s.loaded = eng, err, true
	s.mu.Unlock()
	s.list()
	return eng, err
}

// list lists the OpenCL devices once.
func (s *engineSlot) list() {
	s.mu.Lock()
	listed := s.listed
	s.mu.Unlock()
	if !listed {
		infos, err := model.Devices()
		s.mu.Lock()
		s.infos, s.listErr, s.listed = infos, err, true
		s.mu.Unlock()
	}
	s.mu.Lock()
	onLoad := s.onLoad
	s.mu.Unlock()
	if onLoad != nil {
		onLoad()
	}
}

// replace loads the engine on spec and makes it the one jobs get; the old
// one is closed once the jobs still running on it end. When ctx is done
// first (another job started), the new engine is dropped.
func (s *engineSlot) replace(ctx context.Context, spec model.DeviceSpec, prog progress.Func) (*engine.Engine, error) {
	s.load.Lock()
	defer s.load.Unlock()
	eng, err := engine.Load(engine.Options{Device: &spec, Progress: prog})
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		_ = eng.Close() // never used: nothing to report
		return nil, ctx.Err()
	}
	s.mu.Lock()
	old, before := s.eng, s.beforeClose
	s.spec, s.specErr, s.eng, s.err, s.loaded = spec, nil, eng, nil, true
	s.mu.Unlock()
	if old != nil {
		s.retiring.Add(1)
		go func() {
			defer s.retiring.Done()
			s.use.Lock()
			defer s.use.Unlock()
			if before != nil {
				before(old)
			}
			_ = old.Close() // the user has moved on; a failed release cannot be acted on
		}()
	}
	s.list()
	return eng, nil
}

// state is what the panel shows; it never waits for a load.
func (s *engineSlot) state() (spec model.DeviceSpec, specErr error, eng *engine.Engine, err error, infos []model.DeviceInfo, listErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spec, s.specErr, s.eng, s.err, s.infos, s.listErr
}

// devicePanel shows the device the models run on, why auto fell back to
// the CPU when it did, and lets the user load the models on another one.
type devicePanel struct {
	wb       *Workbench
	inUse    *widget.Label
	fallback *widget.Label
	opencl   *widget.Label // why no OpenCL device is listed
	choice   *widget.Select
	use      *widget.Button
	specs    []string // the spec of each of choice's options
}

func newDevicePanel(wb *Workbench) *devicePanel {
	p := &devicePanel{wb: wb, inUse: widget.NewLabel(""), fallback: widget.NewLabel(""), opencl: widget.NewLabel("")}
	for _, l := range []*widget.Label{p.inUse, p.fallback, p.opencl} {
		l.Wrapping = fyne.TextWrapWord
	}
	p.choice = widget.NewSelect(nil, func(string) { p.use.Enable() })
	p.use = widget.NewButton("Load the models on it", p.apply)
	wb.engines.setOnLoad(func() { wb.do(p.refresh) })
	p.refresh()
	return p
}

// view lays the panel out.
func (p *devicePanel) view() fyne.CanvasObject {
	title := widget.NewLabel("Compute device")
	title.TextStyle = fyne.TextStyle{Bold: true}
	pick := container.NewBorder(nil, nil, nil, p.use, p.choice)
	return container.NewVBox(widget.NewSeparator(), title, p.inUse, p.fallback, pick, p.opencl)
}

// refresh shows the slot's state. Call on the UI goroutine.
func (p *devicePanel) refresh() {
	spec, specErr, eng, err, infos, listErr := p.wb.engines.state()
	switch {
	case eng != nil:
		p.inUse.SetText("In use: " + eng.Device().Info().String())
	case err != nil:
		p.inUse.SetText("Not loaded: " + err.Error())
	default:
		p.inUse.SetText("Not loaded yet; the models load on " + spec.String() + " at the first analysis.")
	}
	why := ""
	if eng != nil && eng.Fallback() != "" {
		why = "No usable GPU: auto fell back to the CPU engine (" + eng.Fallback() + ")."
	}
	if specErr != nil {
		why += " " + specErr.Error()
	}
	setShown(p.fallback, why)
	opts := []string{"auto: the first GPU, else the CPU", "cpu: the CPU engine"}
	p.specs = []string{"auto", "cpu"}
	for _, d := range infos {
		opts = append(opts, d.String())
		p.specs = append(p.specs, d.Spec)
	}
	cl := ""
	if listErr != nil {
		cl = "OpenCL: " + listErr.Error()
	}
	setShown(p.opencl, cl)
	p.choice.SetOptions(opts)
	p.choice.ClearSelected()
	for i, s := range p.specs {
		if s == spec.String() || (eng != nil && spec.Kind == model.DeviceOpenCL && s == eng.Device().Info().Spec) {
			p.choice.SetSelectedIndex(i)
			break
		}
	}
	p.use.Disable()
}

// setShown shows text in l, or hides l when text is empty.
func setShown(l *widget.Label, text string) {
	l.SetText(text)
	if text == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

// apply loads the models on the chosen device in a job, with progress.
func (p *devicePanel) apply() {
	i := p.choice.SelectedIndex()
	if i < 0 || i >= len(p.specs) {
		return
	}
	spec, err := model.ParseDeviceSpec(p.specs[i])
	if err != nil {
		return // the options are specs we listed
	}
	p.use.Disable()
	p.wb.runJob("Loading the models on "+spec.String(), func(ctx context.Context, prog progress.Func) (func(), error) {
		eng, err := p.wb.engines.replace(ctx, spec, prog)
		if err != nil {
			return nil, err
		}
		return func() {
			p.refresh()
			msg := "Models loaded on " + eng.Device().String() + "."
			if eng.Fallback() != "" {
				msg = "No usable GPU: the models run on the CPU engine."
			}
			p.wb.status.SetText(msg)
		}, nil
	})
}

// aboutScreen is the welcome text with the device panel under it.
func aboutScreen(wb *Workbench) fyne.CanvasObject {
	return container.NewBorder(nil, newDevicePanel(wb).view(), nil, nil, welcomeScreen(wb))
}
