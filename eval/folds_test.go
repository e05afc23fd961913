package eval

import (
	"slices"
	"testing"
)

func TestParseFolds(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		bad  bool
	}{
		{in: "1-10", want: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{in: "10", want: []int{9}},
		{in: "1,3,5-7", want: []int{0, 2, 4, 5, 6}},
		{in: " 7 - 8 , 1 ", want: []int{0, 6, 7}},
		{in: "2,2,1-2", want: []int{0, 1}},
		{in: "0", bad: true},
		{in: "11", bad: true},
		{in: "5-3", bad: true},
		{in: "1-", bad: true},
		{in: "a", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseFolds(tt.in)
		if (err != nil) != tt.bad || !tt.bad && !slices.Equal(got, tt.want) {
			t.Errorf("ParseFolds(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
		if !tt.bad {
			back, err := ParseFolds(FormatFolds(got))
			if err != nil || !slices.Equal(back, got) {
				t.Errorf("FormatFolds(%v) = %q does not read back", got, FormatFolds(got))
			}
		}
	}
	if s := FormatFolds([]int{0, 1, 2, 6, 8, 9}); s != "1-3,7,9-10" {
		t.Errorf("formatFolds = %q", s)
	}
}
