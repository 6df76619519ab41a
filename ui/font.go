package ui

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"fyne.io/fyne/v2"

	"github.com/facecheck/facecheck/assets"
)

// systemCJKFonts are where Linux distributions install Noto Sans CJK. A
// .ttc is a collection; faceIndexFor picks the face for the language.
// (Windows and macOS: cjkFonts.)
var systemCJKFonts = []string{
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", // Debian, Ubuntu
	"/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",      // Arch, Fedora
	"/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/opentype/noto/NotoSansCJKkr-Regular.otf",
	"/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
}

// faceIndexFor is the face of NotoSansCJK-Regular.ttc for a language
// (fc-list -f "%{index} %{family}": 0 JP, 1 KR, 2 SC, 3 TC, 4 HK). Every
// face covers Latin, kana, Hangul and Han; the index only picks the
// regional glyph forms of Han characters.
func faceIndexFor(lang string) int {
	switch lang {
	case "ja":
		return 0
	case "zh":
		return 2
	}
	return 1
}

// fontFile is a system font file and, for a .ttc collection, the face
// to take from it.
type fontFile struct {
	path string
	face int
}

// cjkFonts are the system fonts to try for lang on goos, best first.
// Linux: Noto Sans CJK, whose every face covers Latin, kana, Hangul and
// Han. Windows and macOS ship no such font: Japanese gets Yu Gothic /
// Hiragino Sans, and Korean and English get Malgun Gothic / Apple SD
// Gothic Neo, which cover Hangul and, through KS X 1001, kana and common
// Han too (so a Japanese name still shows on a Korean or English kiosk).
// getenv reads the environment (Windows keeps fonts under %WINDIR%, and
// per-user ones under %LOCALAPPDATA%).
func cjkFonts(goos, lang string, getenv func(string) string) []fontFile {
	var out []fontFile
	switch goos {
	case "windows":
		var dirs []string
		windir := getenv("WINDIR")
		if windir == "" {
			windir = `C:\Windows`
		}
		dirs = append(dirs, windir+`\Fonts`)
		if local := getenv("LOCALAPPDATA"); local != "" {
			dirs = append(dirs, local+`\Microsoft\Windows\Fonts`)
		}
		ja := []string{"YuGothR.ttc", "YuGothM.ttc", "meiryo.ttc", "msgothic.ttc"}
		ko := []string{"malgun.ttf", "gulim.ttc"}
		names := append(ko, ja...)
		if lang == "ja" {
			names = append(ja, ko...)
		}
		for _, n := range names {
			for _, d := range dirs {
				out = append(out, fontFile{path: d + `\` + n})
			}
		}
		// Noto Sans CJK where someone installed it (the Wine test
		// supplies it this way): the language's face, as on Linux.
		for _, d := range dirs {
			out = append(out, fontFile{path: d + `\NotoSansCJK-Regular.ttc`, face: faceIndexFor(lang)})
		}
	case "darwin":
		ja := []string{
			"/System/Library/Fonts/ヒラギノ角ゴシック W3.ttc", // Hiragino Sans W3, macOS 10.11+
			"/System/Library/Fonts/Hiragino Sans W3.ttc",
			"/Library/Fonts/Hiragino Sans W3.ttc",
		}
		ko := []string{
			"/System/Library/Fonts/AppleSDGothicNeo.ttc",
			"/Library/Fonts/AppleSDGothicNeo.ttc",
		}
		paths := append(ko, ja...)
		if lang == "ja" {
			paths = append(ja, ko...)
		}
		for _, p := range paths {
			out = append(out, fontFile{path: p})
		}
	default:
		for _, p := range systemCJKFonts {
			out = append(out, fontFile{path: p, face: faceIndexFor(lang)})
		}
	}
	return out
}

// LoadFont returns a font that renders English, Japanese and Korean: the
// one bundled in assets when present, else a system CJK font (cjkFonts;
// from a .ttc collection, which Fyne cannot load directly, the language's
// face is extracted). It returns an error when neither exists; the caller
// then keeps Fyne's font, which shows Hangul as boxes.
func LoadFont(lang string) (fyne.Resource, error) {
	if name, data, ok := assets.Font(); ok {
		return fyne.NewStaticResource(name, data), nil
	}
	var errs []error
	for _, ff := range cjkFonts(runtime.GOOS, lang, os.Getenv) {
		path := ff.path
		data, err := os.ReadFile(path)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		if strings.HasSuffix(strings.ToLower(path), ".ttc") {
			face, err := ttcFace(data, ff.face)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", path, err))
				continue
			}
			base := strings.TrimSuffix(filepath.Base(strings.ReplaceAll(path, `\`, "/")), filepath.Ext(path))
			return fyne.NewStaticResource(fmt.Sprintf("%s-%s-%d.otf", base, lang, ff.face), face), nil
		}
		return fyne.NewStaticResource(path, data), nil
	}
	if len(errs) == 0 {
		return nil, errors.New("ui: no CJK font bundled in assets/fonts or installed (Debian: apt-get install fonts-noto-cjk; Windows: Yu Gothic or Malgun Gothic; macOS: Hiragino Sans or Apple SD Gothic Neo)")
	}
	return nil, fmt.Errorf("ui: load CJK font: %w", errors.Join(errs...))
}

// ttcFace copies face index of a TrueType/OpenType collection into a
// standalone sfnt file: the face's table directory with offsets rewritten
// and its tables (which a collection may share between faces) copied after
// it, 4-byte aligned. Table checksums are kept; parsers do not need the
// head checksum adjustment to match.
func ttcFace(ttc []byte, index int) ([]byte, error) {
	be := binary.BigEndian
	if len(ttc) < 12 || string(ttc[:4]) != "ttcf" {
		return nil, errors.New("not a font collection")
	}
	n := int(be.Uint32(ttc[8:]))
	if index < 0 || index >= n || len(ttc) < 12+4*n {
		return nil, fmt.Errorf("face %d of %d", index, n)
	}
	off := int(be.Uint32(ttc[12+4*index:]))
	if off+12 > len(ttc) {
		return nil, errors.New("truncated offset table")
	}
	numTables := int(be.Uint16(ttc[off+4:]))
	dirEnd := off + 12 + 16*numTables
	if dirEnd > len(ttc) {
		return nil, errors.New("truncated table directory")
	}
	out := make([]byte, 12+16*numTables)
	copy(out, ttc[off:off+12])
	for i := 0; i < numTables; i++ {
		rec := ttc[off+12+16*i : off+12+16*(i+1)]
		tOff, tLen := int(be.Uint32(rec[8:])), int(be.Uint32(rec[12:]))
		if tOff < 0 || tLen < 0 || tOff+tLen > len(ttc) {
			return nil, fmt.Errorf("table %q out of range", rec[:4])
		}
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		dst := out[12+16*i : 12+16*(i+1)]
		copy(dst, rec[:8]) // tag and checksum
		be.PutUint32(dst[8:], uint32(len(out)))
		be.PutUint32(dst[12:], uint32(tLen))
		out = append(out, ttc[tOff:tOff+tLen]...)
	}
	return out, nil
}
