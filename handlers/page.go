package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
)

// The recipient page: where a recipient without a login (an attorney, a school) opens the
// link the clinic sent, asks for a one-time code, enters it, and downloads. It is one
// server-rendered page with no external assets; its forms POST, so the token never stands
// in a URL the server sees (the link carries it in the fragment, which browsers do not send,
// and a few lines of inline script move it into the form and out of the address bar). It
// works without script too: the token can be pasted.

var recipientPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your released record</title>
<style nonce="{{.Nonce}}">
body { font-family: system-ui, sans-serif; max-width: 38rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #111; }
label { display: block; margin-top: 1rem; font-weight: 600; }
input { font-size: 1.1rem; padding: .4rem; width: 100%; box-sizing: border-box; }
button { margin-top: 1rem; font-size: 1.1rem; padding: .5rem 1rem; }
.status { border: 2px solid #333; padding: .5rem .75rem; }
.note { border-left: 4px solid #555; padding-left: .75rem; margin-top: 2rem; }
</style>
</head>
<body>
<main>
<h1>Your released record</h1>
{{if .Message}}<p class="status" role="status" aria-live="polite" id="status">{{.Message}}</p>{{end}}
{{if .AskCode}}
<form method="post" action="/r/download">
<input type="hidden" name="token" value="{{.Token}}">
<label for="code">The one-time code we sent to your registered address</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{8}" maxlength="8" required>
<button type="submit" id="download">Download the record</button>
</form>
{{else}}
<p>A clinic has released a record to you. The link alone does not open it: we send a one-time code to the address the clinic has on file for you.</p>
<form method="post" action="/r/code">
<label for="token">Your download link</label>
<input id="token" name="token" value="{{.Token}}" autocomplete="off" required>
<button type="submit" id="send">Send me a code</button>
</form>
<script nonce="{{.Nonce}}">
(function () {
  var m = location.hash.match(/^#t=([A-Za-z0-9._-]+)$/);
  if (m) { document.getElementById("token").value = m[1]; history.replaceState(null, "", location.pathname); }
})();
</script>
{{end}}
<p class="note">This copy is for you only, for the purpose it was released for. Passing it on is restricted by law.</p>
</main>
</body>
</html>
`))

type pageData struct {
	Nonce, Token, Message string
	AskCode               bool
}

// maxPageForm bounds a form posted to a page: the recipient page's token and code, a portal form.
const maxPageForm = 16 << 10

// showPage writes the page with status, under a content security policy that allows its own
// inline style and script (by nonce) and nothing else.
func showPage(w http.ResponseWriter, logger *slog.Logger, status int, d pageData) {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	d.Nonce = base64.StdEncoding.EncodeToString(nonce)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+d.Nonce+"'; script-src 'nonce-"+d.Nonce+
		"'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := recipientPage.Execute(w, d); err != nil {
		logger.Warn("recipient page", "err", err)
	}
}

// pageForm reads the page's posted form: a token, and a code.
func pageForm(w http.ResponseWriter, r *http.Request) (token, code string) {
	form, err := readForm(w, r)
	if err != nil {
		return "", ""
	}
	return form.Get("token"), form.Get("code")
}

// readForm reads a page's posted form, at most maxPageForm bytes.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxPageForm)
	if err := r.ParseForm(); err != nil {
		return nil, recordvault.Errorf(recordvault.EINVALID, "the form could not be read")
	}
	return r.PostForm, nil
}

func handlePage(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		showPage(w, logger, http.StatusOK, pageData{})
	})
}

const linkRefused = "This link cannot be used now: it may have expired or been used. Ask the clinic for a new one."

func handlePageCode(logger *slog.Logger, svc *app.Service, lim *limits) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := pageForm(w, r)
		if limited(w, logger, lim.byToken(token), token) {
			return
		}
		if err := svc.RequestCode(r.Context(), token); err != nil {
			showPage(w, logger, http.StatusUnauthorized, pageData{Message: linkRefused})
			return
		}
		showPage(w, logger, http.StatusOK, pageData{Token: token, AskCode: true,
			Message: "We sent a one-time code to your registered address. It works once, for 5 minutes."})
	})
}

func handlePageDownload(logger *slog.Logger, svc *app.Service, lim *limits) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, code := pageForm(w, r)
		if limited(w, logger, lim.byToken(token), token) {
			return
		}
		proof := app.Proof{Code: code}
		released, session, err := svc.Redeem(r.Context(), proof, token, app.FormatDocument)
		if err != nil {
			showPage(w, logger, http.StatusUnauthorized, pageData{Token: token, AskCode: true,
				Message: "That did not work: the code may be wrong or expired, or the link used. Try the code again, or ask for a new one."})
			return
		}
		serveCopy(w, r, logger, svc, proof, released, session)
	})
}

// limited answers the page with 429 when err is a request over a limit, and reports whether
// it did.
func limited(w http.ResponseWriter, logger *slog.Logger, err error, token string) bool {
	after, ok := retryAfterOf(err)
	if ok {
		w.Header().Set("Retry-After", after)
		showPage(w, logger, http.StatusTooManyRequests, pageData{Token: token, AskCode: true,
			Message: "Too many attempts with this link. Wait " + after + " seconds, then try again."})
	}
	return ok
}
