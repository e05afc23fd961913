//go:build !unix

package cputime

import "time"

// supported: Process reads the OS's figure on this platform.
const supported = false

// Process is the CPU time this process has used, user plus system, and
// whether the OS said: here it does not.
func Process() (time.Duration, bool) { return 0, false }
