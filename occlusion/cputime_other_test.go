//go:build !unix

package occlusion

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
