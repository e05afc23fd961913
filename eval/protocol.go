package eval

import (
	"crypto/sha256"
	"encoding/binary"
)

// Evaluation protocols. Masks are synthetic (maskgen), drawn on the aligned
// 112×112 crop; an image's mask depends only on (seed, style, colour, image
// key), so an image wears the same mask in every pair and protocol.
const (
	// ProtoBLRBLR compares the two images as they are (both unmasked).
	ProtoBLRBLR = "blr-blr"
	// ProtoBLRM masks exactly one image of every pair: which one is
	// MaskedSide(seed, keyA, keyB).
	ProtoBLRM = "blr-m"
	// ProtoMM masks both images, each with its own mask.
	ProtoMM = "m-m"
	// ProtoReal is MFR2 as it is (real masks, no synthetic ones), reported
	// for all pairs and for the pairs where both, one or neither image
	// wears a mask.
	ProtoReal = "real"
)

// ProtocolNames lists the protocol names in report order.
func ProtocolNames() []string { return []string{ProtoBLRBLR, ProtoBLRM, ProtoMM, ProtoReal} }

// MaskedSide says which image of a BLR-M pair wears the mask: 0 for A, 1
// for B. It is the lowest bit of SHA-256("blr-m", seed, keyA, keyB), so it
// depends on the pair alone (not on its position or on which folds are
// evaluated) and is A for about half the pairs.
func MaskedSide(seed uint64, keyA, keyB string) int {
	h := sha256.New()
	var s [8]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	h.Write([]byte("blr-m\x00"))
	h.Write(s[:])
	h.Write([]byte(keyA + "\x00" + keyB))
	return int(h.Sum(nil)[0] & 1)
}

// Variant is which version of an image a protocol compares.
type Variant int

// The variants of an image.
const (
	Plain  Variant = iota // as it is
	Masked                // with a synthetic mask
)

// String is "plain" or "masked".
func (v Variant) String() string {
	if v == Masked {
		return "masked"
	}
	return "plain"
}

// Which images of a pair a protocol masks, as PairVariants labels them.
const (
	MaskedNone = "none"
	MaskedA    = "a"
	MaskedB    = "b"
	MaskedBoth = "both"
)

// PairVariants returns the variants of a pair's images A and B (their
// keys keyA, keyB) that protocol compares, and a label of which are
// masked. ProtoReal compares the images as they are.
func PairVariants(protocol string, seed uint64, keyA, keyB string) (a, b Variant, masked string) {
	switch protocol {
	case ProtoBLRM:
		if MaskedSide(seed, keyA, keyB) == 0 {
			return Masked, Plain, MaskedA
		}
		return Plain, Masked, MaskedB
	case ProtoMM:
		return Masked, Masked, MaskedBoth
	}
	return Plain, Plain, MaskedNone
}
