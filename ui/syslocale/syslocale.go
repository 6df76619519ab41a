// Package syslocale makes the process locale one that Fyne can parse,
// before Fyne reads it. Fyne's lang package reads LC_ALL, LC_MESSAGES,
// LANG in its package init and logs a three-line error for "C.UTF-8"
// (the default of Debian containers, CI runners and services), at every
// start of every command. This package imports only the standard library,
// so Go's package initialisation order (imports first, then by import
// path) runs its init before that of fyne.io/fyne/v2/lang, which waits
// for github.com/jeandeaual/go-locale; ui imports it for that effect.
package syslocale

import (
	"os"
	"strings"
)

func init() { Fix(os.Getenv, os.Setenv) }

// Fix sets LANGUAGE=en when the locale in effect is C or POSIX with a
// charset ("C.UTF-8"): the gettext rule is that LANGUAGE names the
// languages of messages, and the locale library Fyne uses reads it in
// that case instead of parsing "C" as a language. Character handling
// (LC_CTYPE) is left as it is.
func Fix(getenv func(string) string, setenv func(string, string) error) {
	var loc string
	for _, env := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if loc = getenv(env); loc != "" {
			break
		}
	}
	base, _, hasCharset := strings.Cut(loc, ".")
	if !hasCharset || (base != "C" && base != "POSIX") || getenv("LANGUAGE") != "" {
		return
	}
	_ = setenv("LANGUAGE", "en") // an environment that cannot be set keeps Fyne's log line
}
