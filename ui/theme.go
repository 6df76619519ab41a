package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Kiosk colours: white on black with a yellow accent, chosen for contrast
// (WCAG AAA for body text) rather than looks.
var (
	colBackground = color.NRGBA{0x00, 0x00, 0x00, 0xff}
	colForeground = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	colAccent     = color.NRGBA{0xff, 0xd4, 0x00, 0xff}
	colButton     = color.NRGBA{0x30, 0x30, 0x30, 0xff}
	colInput      = color.NRGBA{0x18, 0x18, 0x18, 0xff}
	colBorder     = color.NRGBA{0xc8, 0xc8, 0xc8, 0xff}
	colDisabled   = color.NRGBA{0x8a, 0x8a, 0x8a, 0xff}
	colError      = color.NRGBA{0xff, 0x6b, 0x6b, 0xff}
	colSuccess    = color.NRGBA{0x3c, 0xdc, 0x78, 0xff}
	colWarning    = color.NRGBA{0xff, 0xa6, 0x2b, 0xff}
)

// kioskTheme is a dark, high-contrast theme with large text and touch
// targets. Everything it does not set comes from Fyne's dark theme.
type kioskTheme struct {
	font fyne.Resource // nil: Fyne's bundled font
}

var _ fyne.Theme = (*kioskTheme)(nil)

// NewTheme returns the kiosk theme. font, when not nil, is used for all
// non-monospace text; pass a CJK-capable font (see LoadFont) so Korean
// renders.
func NewTheme(font fyne.Resource) fyne.Theme {
	return &kioskTheme{font: font}
}

func (t *kioskTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameBackground, theme.ColorNameOverlayBackground, theme.ColorNameMenuBackground:
		return colBackground
	case theme.ColorNameForeground:
		return colForeground
	case theme.ColorNamePrimary, theme.ColorNameFocus, theme.ColorNameHyperlink:
		return colAccent
	case theme.ColorNameForegroundOnPrimary:
		return colBackground
	case theme.ColorNameButton:
		return colButton
	case theme.ColorNameInputBackground:
		return colInput
	case theme.ColorNameInputBorder, theme.ColorNameSeparator:
		return colBorder
	case theme.ColorNameDisabled, theme.ColorNamePlaceHolder:
		return colDisabled
	case theme.ColorNameError:
		return colError
	case theme.ColorNameSuccess:
		return colSuccess
	case theme.ColorNameWarning:
		return colWarning
	case theme.ColorNameHover:
		return color.NRGBA{0xff, 0xff, 0xff, 0x30}
	case theme.ColorNamePressed:
		return color.NRGBA{0xff, 0xff, 0xff, 0x50}
	case theme.ColorNameSelection:
		return color.NRGBA{0xff, 0xd4, 0x00, 0x60}
	}
	return theme.DefaultTheme().Color(n, theme.VariantDark)
}

func (t *kioskTheme) Font(s fyne.TextStyle) fyne.Resource {
	if t.font != nil && !s.Monospace && !s.Symbol {
		return t.font
	}
	return theme.DefaultTheme().Font(s)
}

func (t *kioskTheme) Icon(n fyne.ThemeIconName) fyne.Resource {
	return theme.DefaultTheme().Icon(n)
}

// Sizes: body text twice Fyne's default so it reads from a metre away, and
// padding that makes every button a comfortable touch target.
func (t *kioskTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText:
		return 26
	case theme.SizeNameHeadingText:
		return 52
	case theme.SizeNameSubHeadingText:
		return 36
	case theme.SizeNameCaptionText:
		return 20
	case theme.SizeNamePadding:
		return 8
	case theme.SizeNameInnerPadding:
		return 16
	case theme.SizeNameInlineIcon:
		return 32
	case theme.SizeNameInputBorder:
		return 3
	case theme.SizeNameScrollBar:
		return 18
	case theme.SizeNameSeparatorThickness:
		return 2
	}
	return theme.DefaultTheme().Size(n)
}
