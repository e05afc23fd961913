package eval

import (
	"fmt"
	"testing"
)

// TestMaskedSide: the masked image of a BLR-M pair depends on the pair and
// seed only, and is A for about half the pairs.
func TestMaskedSide(t *testing.T) {
	a := 0
	const n = 4000
	for i := range n {
		ka, kb := fmt.Sprintf("P%d/P%d_0001.jpg", i, i), fmt.Sprintf("P%d/P%d_0002.jpg", i, i)
		s := MaskedSide(1, ka, kb)
		if s != MaskedSide(1, ka, kb) || s < 0 || s > 1 {
			t.Fatalf("MaskedSide(%q, %q) = %d, not stable", ka, kb, s)
		}
		if s == 0 {
			a++
		}
	}
	if a < n/2-150 || a > n/2+150 { // ±4.7σ
		t.Errorf("A masked in %d of %d pairs, want about half", a, n)
	}
	differ := 0
	for i := range 200 {
		ka, kb := fmt.Sprint(i), fmt.Sprint(i+1)
		if MaskedSide(1, ka, kb) != MaskedSide(2, ka, kb) {
			differ++
		}
	}
	if differ < 60 || differ > 140 {
		t.Errorf("seed changes the side of %d of 200 pairs, want about 100", differ)
	}
}

// TestPairVariants: each protocol's variants, with blr-m's masked side
// following MaskedSide.
func TestPairVariants(t *testing.T) {
	ka, kb := "A/A_0001.jpg", "B/B_0001.jpg"
	side := MaskedSide(7, ka, kb)
	for _, tc := range []struct {
		proto  string
		a, b   Variant
		masked string
	}{
		{ProtoBLRBLR, Plain, Plain, MaskedNone},
		{ProtoReal, Plain, Plain, MaskedNone},
		{ProtoMM, Masked, Masked, MaskedBoth},
		{ProtoBLRM, [2]Variant{Masked, Plain}[side], [2]Variant{Plain, Masked}[side], [2]string{MaskedA, MaskedB}[side]},
	} {
		a, b, m := PairVariants(tc.proto, 7, ka, kb)
		if a != tc.a || b != tc.b || m != tc.masked {
			t.Errorf("%s: %v, %v, %q; want %v, %v, %q", tc.proto, a, b, m, tc.a, tc.b, tc.masked)
		}
	}
	if Plain.String() != "plain" || Masked.String() != "masked" {
		t.Errorf("variant names %q, %q", Plain, Masked)
	}
}
