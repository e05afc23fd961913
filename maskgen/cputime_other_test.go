//go:build !unix

package maskgen

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
