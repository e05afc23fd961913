// Package locale keeps Fyne from logging an error at every start-up on
// systems whose locale is "C.UTF-8" (Debian's and most containers'
// default). Fyne reads the user's language while its packages initialise,
// through a library that recognises "C" and "POSIX" but takes "C.UTF-8"
// for a language called "C", which Fyne then fails to parse and reports.
//
// Import it for its side effect. Its init runs before Fyne's language
// lookup: Go initialises packages in import-path order as far as their
// dependencies allow, this package depends only on os and strings, and
// Fyne's lookup depends on golang.org/x/text, whose path sorts after ours.
package locale

import (
	"os"
	"strings"
)

func init() {
	if lang, ok := Fallback(os.Getenv); ok {
		os.Setenv("LANGUAGE", lang)
	}
}

// Fallback reports the LANGUAGE value to set, and whether to set it, for
// an environment read through getenv: "en" when the locale in effect
// (the first of LC_ALL, LC_MESSAGES and LANG that is set) is C or POSIX
// with an encoding or modifier ("C.UTF-8", "POSIX@euro") and LANGUAGE is
// unset. English is what the C locale means; gettext-based programs
// ignore LANGUAGE under it, so nothing else in the process changes.
func Fallback(getenv func(string) string) (string, bool) {
	if getenv("LANGUAGE") != "" {
		return "", false
	}
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := getenv(name)
		if v == "" {
			continue
		}
		base, _, _ := strings.Cut(v, "@")
		base, _, _ = strings.Cut(base, ".")
		if (base == "C" || base == "POSIX") && v != base {
			return "en", true
		}
		return "", false
	}
	return "", false
}
