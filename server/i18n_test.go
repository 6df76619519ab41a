package server_test

import (
	"bytes"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/i18n"
)

// getLang fetches u with an Accept-Language header and optional cookies.
func getLang(t *testing.T, c *http.Client, u, accept string, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept-Language", accept)
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	return send(t, c, req)
}

// TestPageLanguage: the registration page's language comes from the
// switcher (?lang=, then a cookie), the browser's Accept-Language, the
// event's default language, English, in that order.
func TestPageLanguage(t *testing.T) {
	s := newTestServer(t)
	path := s.URL() + "/register/" + s.Event.ID
	ko := &http.Cookie{Name: "facecheck_lang", Value: "ko"}
	tests := []struct {
		name, query, accept string
		cookies             []*http.Cookie
		wantLang, wantText  string
	}{
		{"default English", "", "", nil, "en", "Register for DevDay"},
		{"Accept-Language ja", "", "ja-JP,ja;q=0.9,en;q=0.8", nil, "ja", "DevDay への参加登録"},
		{"Accept-Language ko", "", "ko-KR", nil, "ko", "DevDay 참가 등록"},
		{"unsupported falls to English", "", "fr-FR", nil, "en", "Register for DevDay"},
		{"switcher wins", "?lang=ko", "ja", nil, "ko", "DevDay 참가 등록"},
		{"cookie wins over browser", "", "ja", []*http.Cookie{ko}, "ko", "DevDay 참가 등록"},
		{"bad cookie ignored", "", "ja", []*http.Cookie{{Name: "facecheck_lang", Value: "xx"}}, "ja", "DevDay への参加登録"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := getLang(t, httpc, path+tc.query, tc.accept, tc.cookies...)
			if resp.StatusCode != 200 || !strings.Contains(body, `<html lang="`+tc.wantLang+`">`) || !strings.Contains(body, tc.wantText) {
				t.Fatalf("= %d, want lang %s and %q:\n%s", resp.StatusCode, tc.wantLang, tc.wantText, body)
			}
			for _, code := range i18n.Languages() {
				if !strings.Contains(body, `hreflang="`+code+`"`) || !strings.Contains(body, "lang="+code+`"`) {
					t.Errorf("no switcher link to %s", code)
				}
			}
			var set string
			for _, c := range resp.Cookies() {
				if c.Name == "facecheck_lang" {
					set = c.Value
				}
			}
			if want := strings.TrimPrefix(tc.query, "?lang="); set != want {
				t.Errorf("cookie set to %q, want %q", set, want)
			}
		})
	}

	t.Run("EventDefault", func(t *testing.T) {
		a := login(t, s)
		form := url.Values{"language": {"ja"}, "csrf_token": {a.csrf}}
		resp, body := do(t, a.c, "POST", s.URL()+"/admin/events/"+s.Event.ID+"/language", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
		if resp.StatusCode != 200 || !strings.Contains(body, `<option value="ja" selected>`) {
			t.Fatalf("set language = %d:\n%s", resp.StatusCode, body)
		}
		if _, body := getLang(t, httpc, path, "fr-FR"); !strings.Contains(body, `<html lang="ja">`) {
			t.Errorf("a French browser does not get the event's Japanese:\n%s", body)
		}
		if _, body := getLang(t, httpc, path, "en-US"); !strings.Contains(body, `<html lang="en">`) {
			t.Errorf("an English browser does not get English:\n%s", body)
		}
		form.Set("language", "xx")
		if resp, _ := do(t, a.c, "POST", s.URL()+"/admin/events/"+s.Event.ID+"/language", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"); resp.StatusCode != 400 {
			t.Errorf("unknown language = %d, want 400", resp.StatusCode)
		}
	})

	t.Run("Dashboard", func(t *testing.T) {
		a := login(t, s)
		for lang, want := range map[string]string{"ja": "新しいイベント", "ko": "새 행사", "en": "New event"} {
			_, body := getLang(t, a.c, s.URL()+"/admin/?lang="+lang, "")
			if !strings.Contains(body, `<html lang="`+lang+`">`) || !strings.Contains(body, want) {
				t.Errorf("%s dashboard lacks %q:\n%s", lang, want, body)
			}
			_, body = getLang(t, a.c, s.URL()+"/admin/events/"+s.Event.ID, "")
			if !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("the event page forgot the chosen %s", lang)
			}
		}
	})
}

// TestValidationLanguage: the errors shown to someone registering are in
// their language.
func TestValidationLanguage(t *testing.T) {
	s := newTestServer(t)
	post := func(accept string, fields map[string]string) string {
		t.Helper()
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range fields {
			if err := mw.WriteField(k, v); err != nil {
				t.Fatal(err)
			}
		}
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest("POST", s.URL()+"/register/"+s.Event.ID, &buf)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Accept-Language", accept)
		c := &http.Client{Timeout: 10 * time.Second}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return html.UnescapeString(string(b))
	}
	tests := []struct {
		accept string
		fields map[string]string
		key    string
	}{
		{"ja", map[string]string{"name": "佐藤花子", "email": "hanako@example.jp"}, "web.err.consent"},
		{"ko", map[string]string{"name": "김민지", "email": "minji@example.kr", "consent": "yes"}, "web.err.no_photo"},
		{"ja", map[string]string{"name": "佐藤花子", "email": "hanako", "consent": "yes"}, "web.err.email"},
		{"ko", map[string]string{"email": "minji@example.kr", "consent": "yes"}, "web.err.name"},
	}
	for _, tc := range tests {
		want := i18n.MustNew(tc.accept).T(tc.key)
		if body := post(tc.accept, tc.fields); !strings.Contains(body, want) {
			t.Errorf("%s %s: no %q in:\n%s", tc.accept, tc.key, want, body)
		}
	}
	// The error pages of a bad link too.
	_, body := getLang(t, httpc, s.URL()+"/register/nope", "ko")
	if want := i18n.MustNew("ko").T("web.err.no_event"); !strings.Contains(body, want) {
		t.Errorf("unknown event page lacks %q:\n%s", want, body)
	}
}
