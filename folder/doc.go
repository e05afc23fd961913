// Package folder holds what every command needs of the folders it reads
// and writes: a scan of an input tree that follows symbolic links without
// looping and reports what it could not use (Scan), a check that input and
// output folders do not overlap (CheckDisjoint), and the guard that keeps a
// command from replacing files it did not write (Refuse, Check, Claim).
package folder
