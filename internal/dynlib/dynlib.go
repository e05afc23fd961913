// Package dynlib opens shared libraries at run time (through purego, no
// cgo), trying names in order, so that a binary built against an optional
// library (OpenCL, CLBlast) starts on machines without it and can say why
// the feature is off.
package dynlib

import (
	"errors"
	"strings"

	"github.com/ebitengine/purego"
)

// Open loads the first of names that loads and returns its handle and
// name. When none does, the error lists each name's failure in order.
// Nothing is ever closed: drivers such as OpenCL ICDs do not survive
// being unloaded.
func Open(names []string) (handle uintptr, name string, err error) {
	var tried []string
	for _, name := range names {
		h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err == nil {
			return h, name, nil
		}
		tried = append(tried, err.Error())
	}
	return 0, "", errors.New(strings.Join(tried, "; "))
}

// Symbol returns the address of the function name in the library h, and
// false when the library has none.
func Symbol(h uintptr, name string) (uintptr, bool) {
	p, err := purego.Dlsym(h, name)
	return p, err == nil && p != 0
}
