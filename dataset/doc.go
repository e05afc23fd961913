// Package dataset reads (and, where tests need it, writes) the outside
// formats face-verification data come in:
//
//   - LFW View-2 pairs.txt (ReadLFWPairs), with its 10 identity-disjoint
//     folds;
//   - MFR2 pairs.txt and mfr2_labels.txt (ReadMFR2), with the mask type of
//     each image;
//   - InsightFace verification .bin files, a Python pickle of (images,
//     issame) (ReadBin, ScanBin, WriteBin), through a small pickle reader
//     that executes nothing;
//   - MXNet RecordIO .rec/.idx as MS1MV2 is distributed (RecordReader,
//     RecordWriter, OpenIndexedRecords, UnpackImageRecord, and
//     ReadRecLayout for InsightFace's identity index);
//   - a folder with one subfolder per identity (ScanFolder, Folder.Pairs).
//
// Dataset kinds, as the command line names them (lfw=DIR), are registered
// in a Kinds value (Builtin: lfw, mfr2, bin, folder, rec), like
// image.RegisterFormat but without package state. A Kind says what its
// format provides: verification pairs for evaluation (Kind.Eval, an
// EvalSet with folds and, for real masks, each pair's MaskSplit) and/or
// labelled identities for training (Kind.Train, a TrainSet). Evaluation
// and training look kinds up in the same registry, so a new format is one
// entry there.
//
// Every reader reports bad input as a *ParseError naming the file and the
// line or byte offset, wrapping a sentinel (ErrSyntax, ErrUnsupported,
// ErrTruncated, ErrLimit, ErrNotFound) for errors.Is. Lengths read from
// binary input are checked against what the input can still hold before
// anything is allocated, so corrupt files give errors, not panics or
// out-of-memory. The package has no state and no dependence on the face
// engine; paths it returns are slash-separated and relative to the
// dataset directory.
package dataset
