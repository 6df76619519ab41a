package ui

// syslocale sets a locale Fyne can parse before Fyne's lang package
// initialises (see its doc): importing ui is enough.
import _ "github.com/facecheck/facecheck/ui/syslocale"
