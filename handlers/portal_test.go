package handlers

import (
	"html"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// newTestPortal returns a portal on a clock the test moves, and its server.
func newTestPortal(t *testing.T, public string) (*Portal, http.Handler, *time.Time) {
	t.Helper()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	p, err := NewPortal(PortalConfig{Issuer: "http://issuer.invalid", ClientID: "recordvault-portal", PublicURL: public,
		SessionKey: make([]byte, SessionKeySize), Now: func() time.Time { return now }}, slog.New(slog.DiscardHandler), fakeVerifier{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p, NewServer(slog.New(slog.DiscardHandler), nil, fakeVerifier{}, nil, WithPortal(p), WithRateLimits(rate.Inf, 1, rate.Inf, 1)), &now
}

// get sends GET path with cookie, returning the answer and the session cookie it sets (nil: none).
func get(t *testing.T, h http.Handler, p *Portal, path string, cookie *http.Cookie) (*http.Response, string, *http.Cookie) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	resp := w.Result()
	body, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.Name == p.session {
			return resp, string(body), c
		}
	}
	return resp, string(body), nil
}

// A session ends after 15 minutes without a request, and after 8 hours whatever happens;
// each request renews its idle time. Its cookie is HttpOnly and SameSite=Lax, and Secure
// with the __Host- prefix when the portal is reached over https.
func TestPortalSessionLifetime(t *testing.T) {
	p, h, now := newTestPortal(t, "http://127.0.0.1:8080")
	value, err := p.cookies.Encode(p.session, portalSession{Token: "good", Client: "c1", Name: "Jo Example", Self: true, You: "Jo Example",
		Clients: []sessionClient{{ID: "c1", Name: "Jo Example", Self: true}}, Started: *now, Seen: *now})
	if err != nil {
		t.Fatal(err)
	}
	cookie := &http.Cookie{Name: p.session, Value: value}
	signedIn := func(at time.Duration, c *http.Cookie) (bool, *http.Cookie) {
		*now = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC).Add(at)
		_, body, set := get(t, h, p, "/portal/", c)
		return strings.Contains(body, "Hello, Jo Example."), set
	}
	in, renewed := signedIn(14*time.Minute, cookie)
	if !in || renewed == nil || !renewed.HttpOnly || renewed.SameSite != http.SameSiteLaxMode || renewed.Secure || renewed.Path != "/" {
		t.Fatalf("14 minutes in: signed in %v, cookie %+v", in, renewed)
	}
	if in, _ := signedIn(14*time.Minute+16*time.Minute, renewed); in {
		t.Error("still signed in after 16 minutes without a request")
	}
	if in, _ := signedIn(29*time.Minute, cookie); in {
		t.Error("signed in with the first cookie 29 minutes after it was last used")
	}
	c := cookie
	for at := 10 * time.Minute; at < 8*time.Hour; at += 10 * time.Minute {
		var ok bool
		if ok, c = signedIn(at, c); !ok {
			t.Fatalf("signed out %v in, while active", at)
		}
	}
	if in, cleared := signedIn(8*time.Hour+time.Minute, c); in || cleared == nil || cleared.MaxAge >= 0 {
		t.Errorf("after 8 hours: signed in %v, cookie %+v", in, cleared)
	}
	// A token the verifier no longer accepts ends the session at once.
	value, _ = p.cookies.Encode(p.session, portalSession{Token: "expired", Client: "c1", Name: "Jo Example", Started: *now, Seen: *now})
	if in, _ := signedIn(8*time.Hour+time.Minute, &http.Cookie{Name: p.session, Value: value}); in {
		t.Error("signed in with a token the verifier refuses")
	}
	// A page for the signed in sends anyone else to the start.
	resp, _, _ := get(t, h, p, "/portal/copies", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/portal/" {
		t.Errorf("the copies page without a session: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	secure, _, _ := newTestPortal(t, "https://records.example.org")
	if secure.session != "__Host-rv_session" || !secure.secure {
		t.Errorf("over https the cookie is %q, secure %v", secure.session, secure.secure)
	}
}

// Portal pages load nothing from elsewhere and run no script: the policy allows the inline
// style by its hash, and nothing else.
func TestPortalPagesStandAlone(t *testing.T) {
	p, h, _ := newTestPortal(t, "http://127.0.0.1:8080")
	resp, body, _ := get(t, h, p, "/portal/", nil)
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(csp, "default-src 'none'; style-src 'sha256-") || strings.Contains(csp, "script-src") ||
		strings.Contains(csp, "unsafe") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("the start page: %d, policy %q", resp.StatusCode, csp)
	}
	if strings.Contains(body, "<script") || regexp.MustCompile(`(src|href|action)="(https?:)?//`).MatchString(body) {
		t.Errorf("the start page loads or sends elsewhere:\n%s", body)
	}
	for _, want := range []string{`<html lang="en">`, `<a class="skip" href="#main">`, `<main id="main">`, `href="/portal/signin"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the start page lacks %s", want)
		}
	}
}

// A form posted from another site is refused before it reaches a page.
func TestPortalRefusesCrossSiteForms(t *testing.T) {
	p, h, now := newTestPortal(t, "http://127.0.0.1:8080")
	value, _ := p.cookies.Encode(p.session, portalSession{Token: "good", Client: "c1", Name: "Jo", Started: *now, Seen: *now})
	for _, path := range []string{"/portal/signout", "/portal/copies/r1"} {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("format=pdf"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.AddCookie(&http.Cookie{Name: p.session, Value: value})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusForbidden {
			t.Errorf("a cross-site POST %s: %d", path, w.Code)
		}
	}
}

// The portal's colours meet WCAG 2.2 AA: text at least 4.5:1 against its background (1.4.3),
// the focus outline and other non-text marks at least 3:1 (1.4.11). Read from the style
// sheet the pages carry: a colour without a background of its own is on white, a background
// without a colour carries the body's text.
func TestPortalContrast(t *testing.T) {
	rule := regexp.MustCompile(`([^{}]+)\{([^}]*)\}`)
	decl := func(body, prop string) string {
		m := regexp.MustCompile(`(?:^|;)\s*` + prop + `:\s*(?:[0-9a-z. ]*\s)?(#[0-9a-fA-F]{3,6})\b`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return m[1]
	}
	bodyText := "#111"
	checked := 0
	for _, m := range rule.FindAllStringSubmatch(portalCSS, -1) {
		selector, body := strings.TrimSpace(m[1]), m[2]
		fg, bg, outline := decl(body, "color"), decl(body, "background"), decl(body, "outline")
		if fg != "" || bg != "" {
			if fg == "" {
				fg = bodyText
			}
			if bg == "" {
				bg = "#fff"
			}
			if r := contrast(t, fg, bg); r < 4.5 {
				t.Errorf("%s: text %s on %s is %.2f:1, want 4.5:1", selector, fg, bg, r)
			}
			checked++
		}
		if outline != "" {
			if r := contrast(t, outline, "#fff"); r < 3 {
				t.Errorf("%s: outline %s on white is %.2f:1, want 3:1", selector, outline, r)
			}
			checked++
		}
	}
	if checked < 8 {
		t.Fatalf("only %d colour pairs found in the style sheet", checked)
	}
}

// contrast is the WCAG contrast ratio of two colours written #rgb or #rrggbb.
func contrast(t *testing.T, a, b string) float64 {
	t.Helper()
	lum := func(hex string) float64 {
		hex = strings.TrimPrefix(hex, "#")
		if len(hex) == 3 {
			hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
		}
		v, err := strconv.ParseUint(hex, 16, 32)
		if err != nil || len(hex) != 6 {
			t.Fatalf("colour %q", hex)
		}
		var l [3]float64
		for i, c := range []uint64{v >> 16 & 0xff, v >> 8 & 0xff, v & 0xff} {
			s := float64(c) / 255
			if s <= 0.03928 {
				l[i] = s / 12.92
			} else {
				l[i] = math.Pow((s+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
	}
	la, lb := lum(a), lum(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// The client's pages speak at a client's reading level: the sentences a page explains itself
// with (its paragraphs and list items, citations aside) score at most grade 8 on the
// Flesch-Kincaid scale, the bar health-literacy guides set for patient materials.
func TestPortalPlainLanguage(t *testing.T) {
	_, _, now := newTestPortal(t, "http://127.0.0.1:8080")
	s := &portalSession{Token: "good", Client: "c1", Name: "Jo Example", Self: true, You: "Jo Example", Started: *now, Seen: *now}
	view := viewFor(s, "Your records")
	view.Copies = []portalCopy{{ID: "r1", Released: "5 December 2026", Record: "Progress note of 20 November 2026", Status: "Ready"}}
	view.Records = []portalRecord{{ID: "d1", Written: "20 November 2026", Kind: "Progress note", By: "Dr. Ana Lee", Status: "Signed"}}
	view.Record = &view.Records[0]
	view.CanAmend = true
	for _, c := range portalCategories {
		view.Categories = append(view.Categories, portalChoice{Value: string(c), Label: categoryName(c) + "s"})
	}
	tags := regexp.MustCompile(`(?s)<[^>]+>`)
	block := regexp.MustCompile(`(?s)<(p|li|dd)[^>]*>(.*?)</(p|li|dd)>`)
	cites := regexp.MustCompile(`\([^)]*\)`)
	for _, page := range []string{"home", "rules", "records", "record", "copies", "requests", "authorizations", "accounting"} {
		var b strings.Builder
		if err := portalPages[page].ExecuteTemplate(&b, "layout", view); err != nil {
			t.Fatal(err)
		}
		_, main, _ := strings.Cut(b.String(), `<main id="main">`)
		main, _, _ = strings.Cut(main, "</main>")
		var text []string
		for _, m := range block.FindAllStringSubmatch(main, -1) {
			text = append(text, cites.ReplaceAllString(html.UnescapeString(tags.ReplaceAllString(m[2], " ")), ""))
		}
		grade := fleschKincaid(strings.Join(text, " "))
		if grade > 8 {
			t.Errorf("the %s page reads at grade %.1f, want 8 or below:\n%s", page, grade, strings.Join(text, "\n"))
		}
		t.Logf("%s: grade %.1f", page, grade)
	}
}

// fleschKincaid is the Flesch-Kincaid grade level of text: 0.39 words per sentence + 11.8
// syllables per word - 15.59, syllables counted as runs of vowels (a silent final e aside).
func fleschKincaid(text string) float64 {
	sentences := max(1, len(regexp.MustCompile(`[.!?:;]+(\s|$)`).FindAllString(text, -1)))
	words := regexp.MustCompile(`[A-Za-z][A-Za-z']*`).FindAllString(text, -1)
	if len(words) == 0 {
		return 0
	}
	vowels := regexp.MustCompile(`[aeiouy]+`)
	syllables := 0
	for _, w := range words {
		w = strings.ToLower(w)
		n := len(vowels.FindAllString(w, -1))
		if strings.HasSuffix(w, "e") && !strings.HasSuffix(w, "le") && n > 1 {
			n--
		}
		syllables += max(1, n)
	}
	return 0.39*float64(len(words))/float64(sentences) + 11.8*float64(syllables)/float64(len(words)) - 15.59
}
