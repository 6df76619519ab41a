package ui

import (
	"strings"
	"testing"
)

// The fonts tried per OS and language: Windows and macOS put a Japanese
// font first for Japanese and a Korean one (which has kana too) first
// otherwise; Linux takes the language's face of Noto Sans CJK.
func TestCJKFontsPerOS(t *testing.T) {
	env := func(vals map[string]string) func(string) string {
		return func(k string) string { return vals[k] }
	}
	win := env(map[string]string{"WINDIR": `D:\Win`, "LOCALAPPDATA": `C:\Users\kiosk\AppData\Local`})
	for _, tc := range []struct {
		goos, lang string
		getenv     func(string) string
		first      fontFile
		alsoHas    string
	}{
		{"windows", "ja", win, fontFile{path: `D:\Win\Fonts\YuGothR.ttc`}, `C:\Users\kiosk\AppData\Local\Microsoft\Windows\Fonts\malgun.ttf`},
		{"windows", "ko", win, fontFile{path: `D:\Win\Fonts\malgun.ttf`}, `D:\Win\Fonts\YuGothR.ttc`},
		{"windows", "en", env(nil), fontFile{path: `C:\Windows\Fonts\malgun.ttf`}, `C:\Windows\Fonts\meiryo.ttc`},
		{"windows", "ko", win, fontFile{path: `D:\Win\Fonts\malgun.ttf`}, `C:\Users\kiosk\AppData\Local\Microsoft\Windows\Fonts\NotoSansCJK-Regular.ttc`},
		{"darwin", "ja", env(nil), fontFile{path: "/System/Library/Fonts/ヒラギノ角ゴシック W3.ttc"}, "/System/Library/Fonts/AppleSDGothicNeo.ttc"},
		{"darwin", "ko", env(nil), fontFile{path: "/System/Library/Fonts/AppleSDGothicNeo.ttc"}, "/System/Library/Fonts/Hiragino Sans W3.ttc"},
		{"linux", "ja", env(nil), fontFile{path: systemCJKFonts[0], face: 0}, "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"},
		{"linux", "ko", env(nil), fontFile{path: systemCJKFonts[0], face: 1}, "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"},
		{"freebsd", "ko", env(nil), fontFile{path: systemCJKFonts[0], face: 1}, ""},
	} {
		got := cjkFonts(tc.goos, tc.lang, tc.getenv)
		if len(got) == 0 || got[0] != tc.first {
			t.Errorf("%s/%s: first %+v, want %+v", tc.goos, tc.lang, got, tc.first)
			continue
		}
		found := tc.alsoHas == ""
		for _, f := range got {
			found = found || f.path == tc.alsoHas
			if tc.goos == "windows" && strings.Contains(f.path, "/") {
				t.Errorf("%s: a Windows path with a slash", f.path)
			}
		}
		if !found {
			t.Errorf("%s/%s: %q not tried", tc.goos, tc.lang, tc.alsoHas)
		}
	}
}

// Noto Sans CJK installed on Windows is tried after the system fonts, with
// the language's face of the collection.
func TestCJKFontsWindowsNoto(t *testing.T) {
	env := func(k string) string { return map[string]string{"WINDIR": `C:\Windows`}[k] }
	for _, lang := range []string{"ja", "ko", "en"} {
		got := cjkFonts("windows", lang, env)
		last := got[len(got)-1]
		want := fontFile{path: `C:\Windows\Fonts\NotoSansCJK-Regular.ttc`, face: faceIndexFor(lang)}
		if last != want {
			t.Errorf("%s: last font %+v, want %+v", lang, last, want)
		}
	}
}
