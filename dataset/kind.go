package dataset

import (
	"errors"
	"fmt"
	"strings"
)

// Use is what a dataset kind can be read for: a set of bits.
type Use uint8

const (
	// ForEval: verification pairs (Kind.Eval).
	ForEval Use = 1 << iota
	// ForTrain: identities to train on (Kind.Train).
	ForTrain
)

func (u Use) String() string {
	switch u {
	case ForEval:
		return "evaluation"
	case ForTrain:
		return "training"
	case ForEval | ForTrain:
		return "evaluation and training"
	}
	return fmt.Sprintf("Use(%d)", uint8(u))
}

// Kind is one dataset format, as named on the command line (lfw=DIR): what
// it provides and how to read it. A format that has pairs gives Eval, one
// that has identities gives Train, or both.
type Kind struct {
	Name string
	// Eval reads the verification set at path; nil when the format has no
	// pairs. The registry fills the set's Kind and refuses an empty one.
	Eval func(path string, opt EvalOptions) (*EvalSet, error)
	// Train reads the identities to train on at path; nil when the format
	// has none.
	Train func(path string, opt TrainOptions) (*TrainSet, error)
	// RealMasks says the pairs show real masks: each EvalPair's Split
	// says which of its images wear one (MFR2).
	RealMasks bool
}

// Supports reports whether k can be read for every use in u.
func (k Kind) Supports(u Use) bool {
	return (u&ForEval == 0 || k.Eval != nil) && (u&ForTrain == 0 || k.Train != nil)
}

// ErrUnknownKind reports a dataset kind that a registry does not hold, or
// that cannot be read for the use asked; the message names those it has.
var ErrUnknownKind = errors.New("unknown dataset kind")

// Kinds is a registry of dataset kinds, like image.RegisterFormat's but a
// value: Builtin makes one, callers pass it on. The zero value is empty
// and ready to use; it is not safe for concurrent Register calls.
type Kinds struct {
	kinds []Kind // in registration order
}

// Builtin returns a new registry holding the formats this package reads.
// Adding a format is one entry here (TestBuiltinKinds checks each entry
// as Register would).
func Builtin() *Kinds {
	return &Kinds{kinds: []Kind{
		{Name: "lfw", Eval: lfwEval, Train: lfwTrain},
		{Name: "mfr2", Eval: mfr2Eval, RealMasks: true},
		{Name: "bin", Eval: binEval},
		{Name: "folder", Eval: folderEval, Train: folderTrain},
		{Name: "rec", Train: recTrain},
	}}
}

// Register adds k. A kind needs a name not yet registered (names are
// case-sensitive, without "=" or white space) and at least one of Eval
// and Train.
func (r *Kinds) Register(k Kind) error {
	switch {
	case k.Name == "" || strings.ContainsAny(k.Name, "= \t\n"):
		return fmt.Errorf("dataset kind %q: a name is a word without '='", k.Name)
	case k.Eval == nil && k.Train == nil:
		return fmt.Errorf("dataset kind %q: reads neither pairs nor identities", k.Name)
	}
	if _, ok := r.find(k.Name); ok {
		return fmt.Errorf("dataset kind %q registered twice", k.Name)
	}
	r.kinds = append(r.kinds, k)
	return nil
}

func (r *Kinds) find(name string) (Kind, bool) {
	for _, k := range r.kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// Lookup returns the kind called name if it supports use (0: any use);
// otherwise an ErrUnknownKind error naming the kinds that do.
func (r *Kinds) Lookup(name string, use Use) (Kind, error) {
	if k, ok := r.find(name); ok && k.Supports(use) {
		return k, nil
	}
	purpose := ""
	if use != 0 {
		purpose = " for " + use.String()
	}
	return Kind{}, fmt.Errorf("%w %q%s (want %s)", ErrUnknownKind, name, purpose, orList(r.Names(use)))
}

// Names lists the kinds that support use (0: all), in registration order.
func (r *Kinds) Names(use Use) []string {
	var out []string
	for _, k := range r.kinds {
		if k.Supports(use) {
			out = append(out, k.Name)
		}
	}
	return out
}

// OpenEval reads the verification set of the kind called name at path.
func (r *Kinds) OpenEval(name, path string, opt EvalOptions) (*EvalSet, error) {
	k, err := r.Lookup(name, ForEval)
	if err != nil {
		return nil, err
	}
	set, err := k.Eval(path, opt)
	if err != nil {
		return nil, err
	}
	set.Kind, set.RealMasks = name, k.RealMasks
	if len(set.Pairs) == 0 {
		return nil, fmt.Errorf("dataset %s=%s has no pairs", name, path)
	}
	return set, nil
}

// OpenTrain reads the identities of the kind called name at path.
func (r *Kinds) OpenTrain(name, path string, opt TrainOptions) (*TrainSet, error) {
	k, err := r.Lookup(name, ForTrain)
	if err != nil {
		return nil, err
	}
	return k.Train(path, opt)
}

// orList is "a, b or c".
func orList(names []string) string {
	switch len(names) {
	case 0:
		return "none registered"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
