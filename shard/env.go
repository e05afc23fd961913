package shard

import (
	"errors"
	"fmt"
	"strconv"
)

// Environment variables of the schedulers that Detect reads.
const (
	// Slurm job arrays (sbatch --array=MIN-MAX[:STEP]).
	EnvSlurmID    = "SLURM_ARRAY_TASK_ID"
	EnvSlurmMin   = "SLURM_ARRAY_TASK_MIN"
	EnvSlurmMax   = "SLURM_ARRAY_TASK_MAX"
	EnvSlurmStep  = "SLURM_ARRAY_TASK_STEP"
	EnvSlurmCount = "SLURM_ARRAY_TASK_COUNT"
	// Kubernetes Indexed Jobs: the pod's index, 0 to completions-1. The
	// count is not in the environment; the command takes it as --shards.
	EnvK8sIndex = "JOB_COMPLETION_INDEX"
)

// ErrEnv marks a scheduler environment that does not say which shard a
// task is.
var ErrEnv = errors.New("cannot tell the shard from the environment")

// Detect returns the shard a command runs, from its --shard flag (flag,
// "" when not given), its --shards flag (shards, 0 when not given) and the
// environment (getenv, normally os.Getenv). It also says where the shard
// came from, for the command to print (empty for the whole set).
//
//   - --shard I/N wins; --shards, if given too, must be N.
//   - In a Slurm array task, the tasks of the array are the shards in
//     order: task ID ↦ (ID − MIN)/STEP + 1 of SLURM_ARRAY_TASK_COUNT (or of
//     (MAX − MIN)/STEP + 1). An array given as a list (--array=1,3,7) has
//     no such order and is an error; so is a --shards that differs from
//     the array's size, as when one task is resubmitted alone
//     (--array=3): that task must be given --shard I/N.
//   - In a Kubernetes Indexed Job, JOB_COMPLETION_INDEX k is shard k+1 of
//     --shards, which is then required.
//   - Otherwise the whole set, unless --shards was given, which is then an
//     error: a task that asks for a split must know its part.
func Detect(flag string, shards int, getenv func(string) string) (Spec, string, error) {
	if shards < 0 || shards > MaxCount {
		return Spec{}, "", fmt.Errorf("%w: --shards %d, want 1 to %d", ErrSpec, shards, MaxCount)
	}
	if flag != "" {
		s, err := Parse(flag)
		if err != nil {
			return Spec{}, "", fmt.Errorf("--shard: %w", err)
		}
		if shards != 0 && shards != s.Count {
			return Spec{}, "", fmt.Errorf("%w: --shard %s and --shards %d disagree", ErrSpec, flag, shards)
		}
		return s, "--shard", nil
	}
	slurm, k8s := getenv(EnvSlurmID), getenv(EnvK8sIndex)
	switch {
	case slurm != "" && k8s != "":
		return Spec{}, "", fmt.Errorf("%w: both %s and %s are set; give --shard I/N", ErrEnv, EnvSlurmID, EnvK8sIndex)
	case slurm != "":
		return fromSlurm(slurm, shards, getenv)
	case k8s != "":
		return fromK8s(k8s, shards)
	case shards != 0:
		return Spec{}, "", fmt.Errorf("%w: --shards %d needs %s or %s to say which shard this is; give --shard I/%d", ErrEnv, shards, EnvSlurmID, EnvK8sIndex, shards)
	}
	return Whole, "", nil
}

// envInt reads a whole number from the environment; ok is false when the
// variable is unset or empty.
func envInt(getenv func(string) string, name string) (v int, ok bool, err error) {
	s := getenv(name)
	if s == "" {
		return 0, false, nil
	}
	v, err = strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, false, fmt.Errorf("%w: %s=%q is not a whole number", ErrEnv, name, s)
	}
	return v, true, nil
}

func fromSlurm(idText string, shards int, getenv func(string) string) (Spec, string, error) {
	vals := map[string]int{}
	set := map[string]bool{}
	for _, name := range []string{EnvSlurmID, EnvSlurmMin, EnvSlurmMax, EnvSlurmStep, EnvSlurmCount} {
		v, ok, err := envInt(getenv, name)
		if err != nil {
			return Spec{}, "", err
		}
		vals[name], set[name] = v, ok
	}
	id, lo, step := vals[EnvSlurmID], vals[EnvSlurmMin], vals[EnvSlurmStep]
	if !set[EnvSlurmMin] {
		return Spec{}, "", fmt.Errorf("%w: %s=%s but %s is not set", ErrEnv, EnvSlurmID, idText, EnvSlurmMin)
	}
	if !set[EnvSlurmStep] {
		step = 1
	}
	if step < 1 || id < lo || (id-lo)%step != 0 {
		return Spec{}, "", fmt.Errorf("%w: task %d is not in an array that starts at %d with step %d", ErrEnv, id, lo, step)
	}
	count, fromMax := vals[EnvSlurmCount], 0
	if set[EnvSlurmMax] {
		if vals[EnvSlurmMax] < id {
			return Spec{}, "", fmt.Errorf("%w: task %d is above %s=%d", ErrEnv, id, EnvSlurmMax, vals[EnvSlurmMax])
		}
		fromMax = (vals[EnvSlurmMax]-lo)/step + 1
	}
	switch {
	case !set[EnvSlurmCount] && !set[EnvSlurmMax]:
		return Spec{}, "", fmt.Errorf("%w: %s=%s but neither %s nor %s is set", ErrEnv, EnvSlurmID, idText, EnvSlurmCount, EnvSlurmMax)
	case !set[EnvSlurmCount]:
		count = fromMax
	case set[EnvSlurmMax] && count != fromMax:
		return Spec{}, "", fmt.Errorf("%w: the array's %d tasks are not every %d-th from %d to %d (a list such as --array=1,3,7?); give --shard I/N",
			ErrEnv, count, step, lo, vals[EnvSlurmMax])
	}
	s := Spec{Index: (id-lo)/step + 1, Count: count}
	if err := s.Check(); err != nil {
		return Spec{}, "", fmt.Errorf("%s=%s: %w", EnvSlurmID, idText, err)
	}
	if shards != 0 && shards != count {
		return Spec{}, "", fmt.Errorf("%w: the array has %d tasks but --shards is %d (one task resubmitted alone?); give this task --shard I/%d",
			ErrEnv, count, shards, shards)
	}
	return s, fmt.Sprintf("%s=%d of the array from %d by %d, %d tasks", EnvSlurmID, id, lo, step, count), nil
}

func fromK8s(idText string, shards int) (Spec, string, error) {
	idx, err := strconv.Atoi(idText)
	if err != nil || idx < 0 {
		return Spec{}, "", fmt.Errorf("%w: %s=%q is not a whole number", ErrEnv, EnvK8sIndex, idText)
	}
	if shards == 0 {
		return Spec{}, "", fmt.Errorf("%w: %s=%d but the number of shards is not given (--shards N, the Job's completions)", ErrEnv, EnvK8sIndex, idx)
	}
	if idx >= shards {
		return Spec{}, "", fmt.Errorf("%w: %s=%d, want 0 to %d for --shards %d", ErrEnv, EnvK8sIndex, idx, shards-1, shards)
	}
	return Spec{Index: idx + 1, Count: shards}, fmt.Sprintf("%s=%d of %d", EnvK8sIndex, idx, shards), nil
}
