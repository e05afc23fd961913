package locale

import "testing"

func TestFallback(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"LANG": "C.UTF-8"}, true},
		{map[string]string{"LANG": "POSIX@euro"}, true},
		{map[string]string{"LC_ALL": "C.utf8", "LANG": "de_DE.UTF-8"}, true},
		{map[string]string{"LC_ALL": "de_DE.UTF-8", "LANG": "C.UTF-8"}, false}, // LC_ALL wins
		{map[string]string{"LANG": "C"}, false},                                // the library handles plain C
		{map[string]string{"LANG": "en_GB.UTF-8"}, false},
		{map[string]string{"LANG": "C.UTF-8", "LANGUAGE": "fr"}, false}, // the user's choice stands
		{map[string]string{}, false},
	} {
		lang, ok := Fallback(func(k string) string { return tc.env[k] })
		if ok != tc.want || (ok && lang != "en") {
			t.Errorf("%v: %q, %v; want set %v", tc.env, lang, ok, tc.want)
		}
	}
}
