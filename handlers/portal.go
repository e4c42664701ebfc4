package handlers

import (
	"cmp"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/policy"
)

// The client portal: where a client signs in with the clinic's OpenID Connect provider and
// downloads the copies released to them and reads who else received their records. Pages
// are rendered on the server with html/template and work without script; they load nothing
// from anywhere else (the style sheet is inline, allowed by its hash). Every page reads
// through app.Service as the signed-in login, so the same rules and the same audit trail
// apply as to the API. Sign-in and sessions are in portal_session.go.

//go:embed portal/*.html portal/portal.css
var portalFiles embed.FS

var (
	portalCSS = mustRead("portal/portal.css")
	// portalCSP allows the inline style sheet by its hash and nothing else: no script at
	// all, forms only to this origin, never framed.
	portalCSP = func() string {
		sum := sha256.Sum256([]byte(portalCSS))
		return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
			"'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	}()
	portalPages = map[string]*template.Template{}
)

func init() {
	for _, name := range []string{"home", "rules", "staff", "records", "record", "copies", "requests", "authorizations", "accounting", "problem"} {
		portalPages[name] = template.Must(template.ParseFS(portalFiles, "portal/layout.html", "portal/"+name+".html"))
	}
}

func mustRead(name string) string {
	b, err := portalFiles.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// portalView is what every portal page shows: the layout's parts, and the page's own data.
type portalView struct {
	Title, Page, Message string
	Signed, Staff        bool
	Name, ClinicName     string
	You, ActingFor       string // who is signed in; whom they act for, when not themselves
	Choices              []portalChoiceOfClient
	CannotSign           string // why the signed-in person may not sign for ActingFor
	IdleMinutes          int
	CSS                  template.CSS
	Explanation          string
	Copies               []portalCopy
	Requests             []portalRequest
	Authorizations       []portalAuthorization
	Categories           []portalChoice
	Records              []portalRecord
	Next, RecordID       string
	Record               *portalRecord
	Amendments           []portalAmendment
	CanAmend             bool
	Waiting              portalWaiting
	Entries              []portalEntry
	Gaps                 []string
}

// viewFor is the view of a page titled title, for session s (nil: signed out).
func viewFor(s *portalSession, title string) portalView {
	if s == nil {
		return portalView{Title: title}
	}
	v := portalView{Title: title, Signed: true, Staff: s.Staff, Name: s.Name, You: s.You, ClinicName: s.ClinicName}
	if !s.Self && !s.Staff {
		v.ActingFor = s.Name
	}
	return v
}

// render writes page with status under the portal's content security policy.
func (p *Portal) render(w http.ResponseWriter, status int, page string, v portalView) {
	v.CSS, v.Page, v.IdleMinutes = template.CSS(portalCSS), page, int(p.cfg.Idle.Minutes())
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", portalCSP)
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	if err := portalPages[page].ExecuteTemplate(w, "layout", v); err != nil {
		p.logger.Warn("portal page", "page", page, "err", err)
	}
}

// fail shows the page for an error: one page for what is unknown and what is not the
// caller's, as the API answers one 404; 503 with Retry-After when a dependency is down.
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, s *portalSession, err error) {
	_, status, _ := prepareFailure(w, r, p.logger, err)
	v := viewFor(s, "Something went wrong")
	switch {
	case status == http.StatusNotFound:
		v.Title, v.Explanation = "Not found", "We could not find that here. It may have been removed, or it may not be yours to see."
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests:
		v.Title, v.Explanation = "Please try again shortly", "The service is busy or one of its parts is not answering. Nothing was changed. Try again in a minute."
	case status == http.StatusConflict:
		v.Explanation = "This copy cannot be downloaded now: its time may have run out, or the clinic ended it. Ask the clinic for a new one."
	case status < 500:
		v.Explanation = "That request could not be used. Go back and try again."
	default:
		v.Explanation = "Something went wrong on our side. Nothing was changed. Try again later, or call the clinic."
	}
	p.render(w, status, "problem", v)
}

// handleHome is the portal's start: what it offers, and the way in.
func (p *Portal) handleHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, c, _ := p.current(w, r)
		if s != nil && s.Staff {
			http.Redirect(w, r, "/portal/staff", http.StatusSeeOther)
			return
		}
		v := viewFor(s, "Welcome")
		if s != nil && (len(s.Clients) > 1 || !s.Self) {
			choices, err := p.choices(r.Context(), s, c)
			if err != nil {
				p.fail(w, r, s, err)
				return
			}
			v.Choices = choices
		}
		switch r.URL.Query().Get("m") {
		case "signed-out":
			v.Message = "You are signed out."
		case "expired":
			v.Message = "You were signed out because your session ended. Sign in again to go on."
		}
		p.render(w, http.StatusOK, "home", v)
	})
}

// handleRules explains, in plain words, the rules the portal's pages cite.
func (p *Portal) handleRules() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _, _ := p.current(w, r)
		p.render(w, http.StatusOK, "rules", viewFor(s, "The rules behind these pages"))
	})
}

// portalChoiceOfClient is a client the signed-in person may open, with what they may do.
type portalChoiceOfClient struct {
	ID, Name, Why string
	Self, Current bool
}

// choices are the clients the session's login opens, each with why it may not act for them
// now, where it may not (the policy's words and citation, read afresh).
func (p *Portal) choices(ctx context.Context, s *portalSession, c access.Caller) ([]portalChoiceOfClient, error) {
	own, err := p.svc.OwnClient(ctx, c)
	if err != nil {
		return nil, err
	}
	var out []portalChoiceOfClient
	for _, a := range own.Clients {
		out = append(out, portalChoiceOfClient{ID: a.Client, Name: a.Name, Why: a.Why, Self: a.Self, Current: a.Client == s.Client})
	}
	return out, nil
}

// actingFor is what the policy lets the session's login do for the client its pages show.
func (p *Portal) actingFor(ctx context.Context, s *portalSession, c access.Caller) (*app.ActingFor, error) {
	own, err := p.svc.OwnClient(ctx, c)
	if err != nil {
		return nil, err
	}
	for _, a := range own.Clients {
		if a.Client == s.Client {
			return &a, nil
		}
	}
	return nil, recordvault.ErrNotFound
}

// handleActingFor makes one of the clients the login opens the one the pages show.
func (p *Portal) handleActingFor() http.Handler {
	return p.signedIn(func(w http.ResponseWriter, r *http.Request, s *portalSession, c access.Caller) {
		form, err := readForm(w, r)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		i := slices.IndexFunc(s.Clients, func(sc sessionClient) bool { return sc.ID == form.Get("client") })
		if i < 0 {
			p.fail(w, r, s, recordvault.ErrNotFound)
			return
		}
		s.actFor(s.Clients[i])
		if err := p.save(w, s); err != nil {
			p.fail(w, r, s, err)
			return
		}
		http.Redirect(w, r, "/portal/", http.StatusSeeOther)
	})
}

// portalCopy is a copy released to the client, as the copies page lists it.
type portalCopy struct {
	ID, Released, Record, Status, Why string
	Ready                             bool
}

// handleCopies lists the copies released to the signed-in client.
func (p *Portal) handleCopies() http.Handler {
	return p.signedIn(func(w http.ResponseWriter, r *http.Request, s *portalSession, c access.Caller) {
		releases, err := p.svc.ListReleases(r.Context(), c, s.Client)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		v := viewFor(s, "Your copies")
		now := p.cfg.Now()
		for _, rel := range releases {
			cp := portalCopy{ID: rel.ID, Released: rel.Created.Format("2 January 2006"),
				Record: categoryName(rel.Category) + " of " + humanDate(rel.DateOfService)}
			switch {
			case rel.Status == app.ReleaseApproved && now.Before(rel.ValidUntil) && rel.Ended == nil:
				cp.Status, cp.Ready = "Ready", true
				cp.Why = "You can download it until " + rel.ValidUntil.Format("2 January 2006 at 15:04 MST") + "."
			case rel.Status == app.ReleaseApproved:
				cp.Status, cp.Why = "Ended", "Its time ran out or the clinic ended it. Ask the clinic if you need a new copy."
			case rel.Status == app.ReleaseDenied:
				cp.Status, cp.Why = "Not released", "The clinic did not release this record: "+rel.Decision.Rule.Text+
					" ("+rel.Decision.Rule.Citation+"). You may ask the clinic to have the decision reviewed where the law allows."
			default:
				cp.Status, cp.Why = "Waiting for the clinic", "The clinic is still deciding on this copy."
			}
			v.Copies = append(v.Copies, cp)
		}
		p.render(w, http.StatusOK, "copies", v)
	})
}

// handleDownloadCopy downloads a copy released to the signed-in client: a download link
// issued and redeemed in one step, as the document (PDF, or the ZIP bundle with its attached
// files) or the JSON data file, as the API's two calls would.
func (p *Portal) handleDownloadCopy() http.Handler {
	return p.signedIn(func(w http.ResponseWriter, r *http.Request, s *portalSession, c access.Caller) {
		release, err := pathID(r, "release")
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		format := app.FormatDocument // the PDF, or the ZIP bundle when the copy releases attached documents
		if form, err := readForm(w, r); err == nil && form.Get("format") == app.FormatJSON {
			format = app.FormatJSON
		}
		tok, err := p.svc.IssueToken(r.Context(), c, s.Client, release)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		proof := app.Proof{Caller: &c}
		released, session, err := p.svc.Redeem(r.Context(), proof, tok.Token, format)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		serveCopy(w, r, p.logger, p.svc, proof, released, session)
	})
}

// portalRequest is one of the client's access requests, as the requests page lists it.
type portalRequest struct {
	Asked, What, Due, Extended, Status string
}

// handleRequests lists the signed-in client's requests for their records, with the day each
// must be answered by, and the form to ask.
func (p *Portal) handleRequests() http.Handler {
	return p.signedIn(func(w http.ResponseWriter, r *http.Request, s *portalSession, c access.Caller) {
		list, err := p.svc.ListAccessRequests(r.Context(), c, s.Client)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		v := viewFor(s, "Ask for your records")
		if r.URL.Query().Get("m") == "sent" && len(list) > 0 {
			v.Message = "Your request was sent. The clinic must answer by " + humanDate(list[len(list)-1].Due) + "."
		}
		for _, q := range list {
			pr := portalRequest{Asked: humanDate(q.Request.Received), What: q.Request.Description, Due: humanDate(q.Due), Status: "Waiting for the clinic"}
			if q.Extension != nil {
				pr.Extended = "The clinic took more time: " + q.Extension.Reason
			}
			switch {
			case q.Status == "answered":
				pr.Status = "Answered: see Your copies"
			case q.Overdue:
				pr.Status = "Late: the clinic has not answered in time"
			}
			v.Requests = append(v.Requests, pr)
		}
		p.render(w, http.StatusOK, "requests", v)
	})
}

// handleAskForRecords sends the signed-in client's request for their records.
func (p *Portal) handleAskForRecords() http.Handler {
	return p.signedIn(func(w http.ResponseWriter, r *http.Request, s *portalSession, c access.Caller) {
		form, err := readForm(w, r)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		in := app.AccessRequestInput{Description: strings.TrimSpace(form.Get("description")), Format: form.Get("format")}
		if _, err := p.svc.CreateAccessRequest(r.Context(), c, s.Client, in); err != nil {
			p.fail(w, r, s, err)
			return
		}
		http.Redirect(w, r, "/portal/requests?m=sent", http.StatusSeeOther)
	})
}

// portalWaiting is what waits on a staff member, as the staff page lists it.
type portalWaiting struct {
	AccessRequests, Amendments, Releases []portalWait
	Late                                 int
	Gaps                                 []string
}

// portalWait is one item waiting: whose, since when, due when, what.
type portalWait struct {
	Client, Record, Since, Due, What string
	Late                             bool
}

// handleStaff lists what waits on the signed-in clinician or clinic admin, with the legal
// clocks.
func (p *Portal) handleStaff() http.Handler {
	return p.signedIn(func(w http.ResponseWriter, r *http.Request, s *portalSession, c access.Caller) {
		got, err := p.svc.Waiting(r.Context(), c)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		v := viewFor(s, "What waits for you")
		who := func(client string) string { return cmp.Or(got.Names[client], "a client") + " (" + client + ")" }
		var wt portalWaiting
		for _, q := range got.AccessRequests {
			item := portalWait{Client: who(q.Client), Since: humanDate(q.Request.Received), Due: humanDate(q.Due), What: q.Request.Description, Late: q.Overdue}
			if q.Unavailable {
				item.Due, item.What, item.Late = "unknown", "its record cannot be read: check the bucket", true
			}
			wt.AccessRequests = append(wt.AccessRequests, item)
		}
		for _, a := range got.Amendments {
			item := portalWait{Client: who(a.Client), Record: a.Record, Due: humanDate(a.Due), What: "amendment request " + a.Amendment, Late: a.Overdue}
			if a.Unavailable {
				item.Due, item.What, item.Late = "unknown", "its record cannot be read: check the bucket", true
			}
			wt.Amendments = append(wt.Amendments, item)
		}
		for _, rel := range got.Releases {
			item := portalWait{Client: who(rel.Client), Record: "release " + rel.Release + " of record " + rel.Record, Since: rel.Since.Format("2 January 2006")}
			switch rel.Awaits {
			case recordvault.AwaitsResolution:
				item.What = "a clinic admin's decision (the rules sent it for review)"
			default:
				item.What = "a denial the client may have reviewed, by a licensed clinician other than " + rel.DecidedBy + " (164.524(a)(4))"
			}
			wt.Releases = append(wt.Releases, item)
		}
		for _, list := range [][]portalWait{wt.AccessRequests, wt.Amendments} {
			for _, item := range list {
				if item.Late {
					wt.Late++
				}
			}
		}
		for _, g := range got.Gaps {
			wt.Gaps = append(wt.Gaps, lostPeriod(g))
		}
		v.Waiting = wt
		p.render(w, http.StatusOK, "staff", v)
	})
}

// portalRecord is one of the client's records, as their file lists it: what, when, by whom,
// never its content.
type portalRecord struct {
	ID, Written, Kind, By, Status string
}

func recordOf(r app.OwnRecordView) portalRecord {
	v := portalRecord{ID: r.ID, Written: r.Created.Format("2 January 2006"), Kind: categoryName(r.Category), By: cmp.Or(r.AuthorName, "a clinician"),
		Status: "Signed"}
	if r.Status != recordvault.StatusSigned {
		v.Status = "Still being written"
	}
	return v
}

// portalRecordsPage is how many records a page of the client's file lists.
const portalRecordsPage = 25

// handleRecords lists the records in the signed-in client's file, a page at a time.
func (p *Portal) handleRecords() http.Handler {
	return p.signedIn(func(w http.ResponseWriter, r *http.Request, s *portalSession, c access.Caller) {
		after := r.URL.Query().Get("after")
		if after != "" && !recordvault.ValidID(after) {
			p.fail(w, r, s, recordvault.Errorf(recordvault.EINVALID, "after: a record id"))
			return
		}
		list, next, err := p.svc.OwnRecords(r.Context(), c, s.Client, after, portalRecordsPage)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		v := viewFor(s, "Your records")
		v.Next = next
		for _, rec := range list {
			v.Records = append(v.Records, recordOf(rec))
		}
		p.render(w, http.StatusOK, "records", v)
	})
}

// portalAmendment is one of the client's requests to amend a record, as the record's page
// shows it.
type portalAmendment struct {
	ID, Asked, Change, Status, Due, Answer, Disagreement string
	CanDisagree                                          bool
}

// groundWords say a denial's ground (164.526(a)(2)) in plain words.
var groundWords = map[recordvault.DenialGround]string{
	recordvault.GroundNotCreatedHere:      "the clinic did not write this record",
	recordvault.GroundNotInRecordSet:      "it is not part of the records the clinic uses to make decisions about you",
	recordvault.GroundNotOpenToInspection: "it is not a record you have the right to see",
	recordvault.GroundAccurateAndComplete: "the clinic finds the record accurate and complete",
}

// handleRecord shows one record of the signed-in client's file with their requests to
// amend it, and the forms to ask for a change or to disagree with a refusal.
func (p *Portal) handleRecord() http.Handler {
	return p.signedIn(func(w http.ResponseWriter, r *http.Request, s *portalSession, c access.Caller) {
		id, err := pathID(r, "record")
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		rec, err := p.svc.OwnRecord(r.Context(), c, s.Client, id)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		pr := recordOf(*rec)
		v := viewFor(s, pr.Kind+" of "+pr.Written)
		v.Record, v.RecordID, v.CanAmend = &pr, rec.ID, rec.Status == recordvault.StatusSigned
		switch r.URL.Query().Get("m") {
		case "asked":
			v.Message = "Your request was sent. The clinic must decide within 60 days."
		case "disagreed":
			v.Message = "Your statement is filed. It goes with this record whenever the record is shared."
		}
		for _, a := range rec.Amendments {
			pa := portalAmendment{ID: a.ID, Asked: humanDate(a.Request.Received), Change: a.Request.Change}
			switch d := a.Decision; {
			case d == nil:
				pa.Status, pa.Due = "Waiting for the clinic's decision.", humanDate(a.Due)
			case d.Outcome == recordvault.StatusAccepted:
				pa.Status, pa.Answer = "The clinic made the change.", "The record now says: "+d.Amendment
			default:
				pa.Status = "The clinic said no: " + groundWords[d.Ground] + "."
				pa.Answer = "Its explanation: " + d.Explanation
				pa.CanDisagree = a.Disagreement == nil
			}
			if a.Disagreement != nil {
				pa.Disagreement = a.Disagreement.Statement
			}
			v.Amendments = append(v.Amendments, pa)
		}
		p.render(w, http.StatusOK, "record", v)
	})
}

// handleAskForChange sends the signed-in client's request to amend one of their records.
func (p *Portal) handleAskForChange() http.Handler {
	return p.signedIn(func(w http.ResponseWriter, r *http.Request, s *portalSession, c access.Caller) {
		id, err := pathID(r, "record")
		var form url.Values
		if err == nil {
			form, err = readForm(w, r)
		}
		if err == nil {
			_, err = p.svc.RequestAmendment(r.Context(), c, s.Client, id, recordvault.AmendmentRequest{
				Change: strings.TrimSpace(form.Get("change")), Reason: strings.TrimSpace(form.Get("reason"))})
		}
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		http.Redirect(w, r, "/portal/records/"+id+"?m=asked", http.StatusSeeOther)
	})
}

// handleDisagree files the signed-in client's statement of disagreement with a refusal to
// amend one of their records (164.526(d)(1)(ii)).
func (p *Portal) handleDisagree() http.Handler {
	return p.signedIn(func(w http.ResponseWriter, r *http.Request, s *portalSession, c access.Caller) {
		id, err := pathID(r, "record")
		var amendment string
		if err == nil {
			amendment, err = pathID(r, "amendment")
		}
		var form url.Values
		if err == nil {
			form, err = readForm(w, r)
		}
		if err == nil {
			_, err = p.svc.RecordDisagreement(r.Context(), c, s.Client, id, amendment, strings.TrimSpace(form.Get("statement")))
		}
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		http.Redirect(w, r, "/portal/records/"+id+"?m=disagreed", http.StatusSeeOther)
	})
}

// portalAuthorization is one of the client's authorizations, as the page lists it.
type portalAuthorization struct {
	ID, Recipient, What, Purpose, Until string
	Active                              bool
}

// portalChoice is a category a client may authorize from the portal, with its fields.
type portalChoice struct {
	Value, Label string
	Fields       []portalChoice
}

// portalCategories are the categories a client authorizes from the portal. Psychotherapy
// notes need an authorization of their own (164.508(a)(2)) and substance use records the
// consent of 42 CFR 2.31: both stay with the clinic's forms.
var portalCategories = []recordvault.Category{recordvault.ProgressNote, recordvault.Evaluation}

// handleAuthorizations lists the signed-in client's authorizations, with the form to give one.
func (p *Portal) handleAuthorizations() http.Handler {
	return p.signedIn(func(w http.ResponseWriter, r *http.Request, s *portalSession, c access.Caller) {
		list, err := p.svc.ListAuthorizations(r.Context(), c, s.Client)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		v := viewFor(s, "Who may receive your records")
		if !s.Self {
			acting, err := p.actingFor(r.Context(), s, c)
			if err != nil {
				p.fail(w, r, s, err)
				return
			}
			if !acting.Signs {
				v.CannotSign = acting.SignWhy
			}
		}
		switch r.URL.Query().Get("m") {
		case "given":
			v.Message = "Your authorization is signed and on file."
		case "revoked":
			v.Message = "Your authorization is taken back. Nothing more will be sent because of it."
		}
		for _, a := range list {
			pa := portalAuthorization{ID: a.ID, Recipient: a.Recipient, What: a.Description, Purpose: a.Purpose,
				Until: cmp.Or(humanDate(a.Expires), a.ExpiryEvent), Active: !a.Revoked}
			if len(a.Fields) > 0 {
				pa.What += " (only some parts)"
			}
			v.Authorizations = append(v.Authorizations, pa)
		}
		for _, cat := range portalCategories {
			choice := portalChoice{Value: string(cat), Label: categoryName(cat) + "s"}
			for _, f := range recordvault.Schemas[cat] {
				choice.Fields = append(choice.Fields, portalChoice{Value: f.Name, Label: f.Label})
			}
			v.Categories = append(v.Categories, choice)
		}
		p.render(w, http.StatusOK, "authorizations", v)
	})
}

// handleAuthorize records the authorization the signed-in client signs on the form.
func (p *Portal) handleAuthorize() http.Handler {
	return p.signedIn(func(w http.ResponseWriter, r *http.Request, s *portalSession, c access.Caller) {
		form, err := readForm(w, r)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		f := form
		name := strings.TrimSpace(f.Get("recipient"))
		in := app.AuthorizationInput{Recipient: recipientID(name), Purpose: strings.TrimSpace(f.Get("purpose")), Expires: f.Get("until"),
			Discloser: cmp.Or(s.ClinicName, "the clinic that keeps my records"), RevocationStatement: true, ConditioningStatement: true,
			RedisclosureStatement: true, Fields: f["field"]}
		var what []string
		for _, v := range f["category"] {
			cat := recordvault.Category(v)
			if !slices.Contains(portalCategories, cat) {
				p.fail(w, r, s, recordvault.Errorf(recordvault.EINVALID, "category: one the portal offers"))
				return
			}
			in.Categories = append(in.Categories, cat)
			what = append(what, categoryName(cat)+"s")
		}
		in.Description = "My " + strings.ToLower(strings.Join(what, " and ")) + ", to " + name
		if f.Get("sign") != "yes" || name == "" || in.Recipient == "" {
			p.fail(w, r, s, recordvault.Errorf(recordvault.EINVALID, "an authorization names who may receive, and is signed"))
			return
		}
		if _, err := p.svc.AddAuthorization(r.Context(), c, s.Client, in); err != nil {
			p.fail(w, r, s, err)
			return
		}
		http.Redirect(w, r, "/portal/authorizations?m=given", http.StatusSeeOther)
	})
}

// handleRevokeAuthorization takes back one of the signed-in client's authorizations.
func (p *Portal) handleRevokeAuthorization() http.Handler {
	return p.signedIn(func(w http.ResponseWriter, r *http.Request, s *portalSession, c access.Caller) {
		id, err := pathID(r, "authorization")
		if err == nil {
			_, err = p.svc.RevokeAuthorization(r.Context(), c, s.Client, id)
		}
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		http.Redirect(w, r, "/portal/authorizations?m=revoked", http.StatusSeeOther)
	})
}

// recipientID is the id by which releases name the recipient a client calls name: its
// letters and digits, lower case, joined by hyphens ("Lincoln Middle School" is
// lincoln-middle-school).
func recipientID(name string) string {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	id := []rune(strings.Join(words, "-"))
	if len(id) > 64 {
		id = id[:64]
	}
	return strings.TrimRight(string(id), "-")
}

// portalEntry is one disclosure, as the accounting page lists it.
type portalEntry struct {
	Date, Recipient, Address, Description, Purpose, Basis, Citation string
}

// handleAccounting shows the signed-in client's accounting of disclosures.
func (p *Portal) handleAccounting() http.Handler {
	return p.signedIn(func(w http.ResponseWriter, r *http.Request, s *portalSession, c access.Caller) {
		acc, err := p.svc.AccountingOf(r.Context(), c, s.Client)
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		v := viewFor(s, "Who received your records")
		for _, e := range acc.Entries {
			v.Entries = append(v.Entries, portalEntry{Date: e.Date.Format("2 January 2006"), Recipient: e.Recipient, Address: e.Address,
				Description: e.Description, Purpose: e.Purpose, Basis: policy.BasisLabel(e.Basis), Citation: e.Citation})
		}
		for _, g := range acc.Gaps {
			v.Gaps = append(v.Gaps, lostPeriod(g))
		}
		p.render(w, http.StatusOK, "accounting", v)
	})
}

// lostPeriod says when a loss of audit records was, in words.
func lostPeriod(g app.LostPeriod) string {
	from := "the start of its records"
	if !g.From.IsZero() {
		from = g.From.Format("2 January 2006")
	}
	return from + " to " + g.Until.Format("2 January 2006")
}

// categoryName is a record category in words.
func categoryName(c recordvault.Category) string {
	s := strings.ReplaceAll(string(c), "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// humanDate writes a date (YYYY-MM-DD) as people read it; as it is when it is not one.
func humanDate(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return t.Format("2 January 2006")
}
