// Package cputime reads the CPU time of this process, which benchmarks
// report beside wall time: on a machine shared with other work, per
// CPU-second figures are the ones to compare.
package cputime
