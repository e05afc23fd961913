// Package eval computes face-verification metrics as pure functions of
// similarity scores and genuine/impostor labels. It knows nothing about
// images or the face engine: callers score pairs, eval summarises them.
//
// # Conventions
//
// Scores are cosine similarities: higher means more alike. A pair is
// accepted ("same person") when score >= threshold. With that rule:
//
//   - FAR (false accept rate, the ISO 19795 FMR) is the fraction of impostor
//     pairs accepted;
//   - TAR (true accept rate) is the fraction of genuine pairs accepted and
//     FRR = FNMR = 1 − TAR.
//
// All standard deviations are population deviations (divide by n), as
// numpy's default np.std that LFW tables are computed with.
//
// # Failed pairs
//
// A pair whose face was not found in one of its images (Pair.Failed) is not
// dropped: it enters every decision metric (accuracy, thresholds, EER, FNMR,
// TAR, AUC) with FailedScore (−1, the lowest cosine), i.e. it is rejected as
// "different" at every threshold above −1. A failed genuine pair therefore
// costs a false reject, and a failed impostor pair can only be a correct
// reject. Dropping failures instead would flatter an engine that fails on
// exactly the hard (masked) pairs. Summary.NFailed reports how many pairs
// were so treated. FailedScore is no score the recogniser gave, so the
// score moments (means, deviations) and FDR leave failed pairs out, and a
// class whose pairs all failed has nothing measured: Summarize returns
// ErrNoScores.
//
// # Ties
//
// Curves group equal scores: one operating point per distinct score, so a
// group of tied genuine and impostor scores moves the ROC diagonally. The
// trapezoid AUC over such points equals the Mann-Whitney probability
// P(g > i) + ½·P(g = i).
//
// # Undefined values
//
// Functions that need both classes return ErrNoGenuine or ErrNoImpostor;
// NaN or infinite scores give ErrNotFinite. Mismatched slice lengths are programmer errors and
// panic, as in gonum.
package eval
