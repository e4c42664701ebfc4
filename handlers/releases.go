package handlers

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/render"
)

func handleAddAuthorization(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, err := pathID(r, "client")
		if err != nil {
			return err
		}
		var body app.AuthorizationInput
		if err := decode(w, r, &body); err != nil {
			return err
		}
		v, err := svc.AddAuthorization(r.Context(), caller(r), client, body)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusCreated, v)
		return nil
	})
}

func handleCreateRelease(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, err := pathID(r, "client")
		if err != nil {
			return err
		}
		var body app.ReleaseInput
		if err := decode(w, r, &body); err != nil {
			return err
		}
		v, err := svc.CreateRelease(r.Context(), caller(r), client, body)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusCreated, v)
		return nil
	})
}

func handleListAuthorizations(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleClientRead(logger, func(ctx context.Context, c access.Caller, client string) (list[app.AuthorizationView], error) {
		vs, err := svc.ListAuthorizations(ctx, c, client)
		return list[app.AuthorizationView]{Items: vs}, err
	})
}

func handleListReleases(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleClientRead(logger, func(ctx context.Context, c access.Caller, client string) (list[app.ReleaseView], error) {
		vs, err := svc.ListReleases(ctx, c, client)
		return list[app.ReleaseView]{Items: vs}, err
	})
}

// handleAccounting answers with the accounting as JSON; as PDF when the caller accepts
// application/pdf; as a FHIR Bundle of AuditEvents when it accepts application/fhir+json.
func handleAccounting(logger *slog.Logger, svc *app.Service) http.Handler {
	asJSON := handleClientRead(logger, svc.AccountingOf)
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		accept := r.Header.Get("Accept")
		pdf, fhir := strings.Contains(accept, "application/pdf"), strings.Contains(accept, mediaTypeFHIR)
		if !pdf && !fhir {
			asJSON.ServeHTTP(w, r)
			return nil
		}
		client, err := pathID(r, "client")
		if err != nil {
			return err
		}
		acc, err := svc.AccountingOf(r.Context(), caller(r), client)
		if err != nil {
			return err
		}
		var doc bytes.Buffer // a few kilobytes: rendered whole, so an error never sends half a file
		contentType, name := "application/pdf", "accounting-"+client+".pdf"
		if pdf {
			err = render.AccountingPDF(&doc, caller(r).Clinic, acc, acc.To)
		} else {
			contentType, name = mediaTypeFHIR, "accounting-"+client+".json"
			err = render.AccountingFHIR(&doc, caller(r).Clinic, acc)
		}
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Content-Length", strconv.Itoa(doc.Len()))
		_, _ = doc.WriteTo(w)
		return nil
	})
}

// mediaTypeFHIR is FHIR's JSON format (FHIR R4, http.html#mime).
const mediaTypeFHIR = "application/fhir+json"

func handleCreateCourtOrder(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, err := pathID(r, "client")
		if err != nil {
			return err
		}
		var body app.OrderInput
		if err := decode(w, r, &body); err != nil {
			return err
		}
		v, err := svc.CreateCourtOrder(r.Context(), caller(r), client, body)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusCreated, v)
		return nil
	})
}

func handleVerifyManifest(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Manifest  string `json:"manifest"`
			Signature string `json:"signature"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		valid, err := svc.VerifyManifest(r.Context(), caller(r), body.Manifest, body.Signature)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, map[string]bool{"valid": valid})
		return nil
	})
}

func handleVerifyCertification(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		code, err := url.PathUnescape(mux.Vars(r)["code"]) // paths are matched as sent; a code may be typed with spaces
		if err != nil {
			return recordvault.Errorf(recordvault.EINVALID, "code: a verification code is 12 letters and digits")
		}
		v, err := svc.VerifyCertification(r.Context(), caller(r), code)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, v)
		return nil
	})
}

func handleSuspendAccounting(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, err := pathID(r, "client")
		if err != nil {
			return err
		}
		var body app.SuspensionInput
		if err := decode(w, r, &body); err != nil {
			return err
		}
		v, err := svc.SuspendAccounting(r.Context(), caller(r), client, body)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusCreated, v)
		return nil
	})
}

func handleListSuspensions(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleClientRead(logger, func(ctx context.Context, c access.Caller, client string) (list[app.SuspensionView], error) {
		vs, err := svc.ListSuspensions(ctx, c, client)
		return list[app.SuspensionView]{Items: vs}, err
	})
}

func handleCreateAccessRequest(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, err := pathID(r, "client")
		if err != nil {
			return err
		}
		var body app.AccessRequestInput
		if err := decode(w, r, &body); err != nil {
			return err
		}
		v, err := svc.CreateAccessRequest(r.Context(), caller(r), client, body)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusCreated, v)
		return nil
	})
}

func handleListAccessRequests(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleClientRead(logger, func(ctx context.Context, c access.Caller, client string) (list[*app.AccessRequestView], error) {
		vs, err := svc.ListAccessRequests(ctx, c, client)
		return list[*app.AccessRequestView]{Items: vs}, err
	})
}

func handleOverdueAccessRequests(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		overdue, err := svc.OverdueAccessRequests(r.Context(), caller(r))
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, overdue)
		return nil
	})
}

func handleWaiting(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		v, err := svc.Waiting(r.Context(), caller(r))
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, v)
		return nil
	})
}

func handleLinkAccount(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, err := pathID(r, "client")
		if err != nil {
			return err
		}
		var body struct {
			Subject string `json:"subject"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		if err := svc.LinkAccount(r.Context(), caller(r), client, body.Subject); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func handleLinkRepresentative(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, subject, err := pathClientSubject(r)
		if err != nil {
			return err
		}
		var body app.RepresentativeInput
		if err := decode(w, r, &body); err != nil {
			return err
		}
		if err := svc.LinkRepresentative(r.Context(), caller(r), client, subject, body); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func handleUnlinkRepresentative(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, subject, err := pathClientSubject(r)
		if err != nil {
			return err
		}
		if err := svc.UnlinkRepresentative(r.Context(), caller(r), client, subject); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleClientStep decodes a body T, takes a step on the client's resource named by the path
// variable idVar, and answers with what the step returns.
func handleClientStep[T, V any](logger *slog.Logger, idVar string, step func(ctx context.Context, c access.Caller, client, id string, body T) (V, error)) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, id, err := clientItemIDs(r, idVar)
		if err != nil {
			return err
		}
		var body T
		if err := decode(w, r, &body); err != nil {
			return err
		}
		v, err := step(r.Context(), caller(r), client, id, body)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, v)
		return nil
	})
}

func handleExtendAccessRequest(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleClientStep(logger, "request", func(ctx context.Context, c access.Caller, client, id string, b extensionBody) (*app.AccessRequestView, error) {
		return svc.ExtendAccessRequest(ctx, c, client, id, b.Reason)
	})
}

func handleAnswerAccessRequest(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleClientStep(logger, "request", func(ctx context.Context, c access.Caller, client, id string, b struct {
		Releases []string `json:"releases"`
	}) (*app.AccessRequestView, error) {
		return svc.AnswerAccessRequest(ctx, c, client, id, b.Releases)
	})
}

func handleReviewDenial(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleClientStep(logger, "release", func(ctx context.Context, c access.Caller, client, id string, b struct {
		Upheld *bool `json:"upheld"`
	}) (*app.ReleaseView, error) {
		if b.Upheld == nil {
			return nil, recordvault.Errorf(recordvault.EINVALID, "upheld: true to uphold the denial, false to overturn it")
		}
		return svc.ReviewDenial(ctx, c, client, id, *b.Upheld)
	})
}

func handleResolveRelease(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleClientStep(logger, "release", func(ctx context.Context, c access.Caller, client, id string, b struct {
		Approve *bool  `json:"approve"`
		Reason  string `json:"reason"`
	}) (*app.ReleaseView, error) {
		if b.Approve == nil {
			return nil, recordvault.Errorf(recordvault.EINVALID, "approve: true to release, false to refuse")
		}
		return svc.ResolveRelease(ctx, c, client, id, *b.Approve, b.Reason)
	})
}

// handleRequestCode sends a one-time code to the registered address of the recipient a
// download token names.
func handleRequestCode(logger *slog.Logger, svc *app.Service, lim *limits) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Token string `json:"token"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		if err := lim.byToken(body.Token); err != nil {
			return err
		}
		if err := svc.RequestCode(r.Context(), body.Token); err != nil {
			return err
		}
		encode(w, r, http.StatusAccepted, map[string]bool{"sent": true})
		return nil
	})
}

// handleDownload redeems a download token. It stands outside /v1's authentication: recipients
// without an account have no bearer token. A bearer token, when one is sent, is a client's
// proof of being the recipient; others send the one-time code. The download token comes in
// the body, never in the URL, where logs, histories and Referer headers would keep it. The
// format is chosen before redemption (the body's format, else Accept): the answer is that copy,
// and the Download-Session header opens the session in which it can be fetched again or
// resumed (handleResumeDownload).
func handleDownload(logger *slog.Logger, verifier TokenVerifier, svc *app.Service, lim *limits) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Token  string `json:"token"`
			Code   string `json:"code"`
			Format string `json:"format"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		if err := lim.byToken(body.Token); err != nil {
			return err
		}
		proof := app.Proof{Code: body.Code, Caller: bearerCaller(r, verifier)}
		format := body.Format
		if format == "" {
			format = app.FormatJSON
			for _, f := range []string{app.FormatPDF, app.FormatZIP} {
				if strings.Contains(r.Header.Get("Accept"), "application/"+f) {
					format = f
				}
			}
		}
		released, session, err := svc.Redeem(r.Context(), proof, body.Token, format)
		if err != nil {
			return err
		}
		w.Header().Set("Download-Session", session.Value)
		w.Header().Set("Download-Session-Expires", session.Expires.UTC().Format(time.RFC3339))
		serveCopy(w, r, logger, svc, proof, released, session)
		return nil
	})
}

// handleResumeDownload fetches again, or resumes with Range, the copy of a download session:
// the session in the Download-Session header (never in the URL), and the recipient's login
// when they redeemed with one.
func handleResumeDownload(logger *slog.Logger, verifier TokenVerifier, svc *app.Service, lim *limits) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		value := r.Header.Get("Download-Session")
		if err := lim.byToken(value); err != nil {
			return err
		}
		proof := app.Proof{Caller: bearerCaller(r, verifier)}
		released, session, err := svc.Resume(r.Context(), proof, value)
		if err != nil {
			return err
		}
		serveCopy(w, r, logger, svc, proof, released, session)
		return nil
	})
}

// bearerCaller is the caller a valid bearer token names, or nil.
func bearerCaller(r *http.Request, verifier TokenVerifier) *access.Caller {
	if scheme, bearer, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		if p, err := verifier.Verify(r.Context(), bearer); err == nil {
			return &access.Caller{ID: p.Subject, Clinic: p.Clinic, Roles: p.Roles}
		}
	}
	return nil
}

// handleClientItem answers status with what f returns for the client's resource named by
// the path variable idVar (no request body).
func handleClientItem[V any](logger *slog.Logger, idVar string, status int, f func(ctx context.Context, c access.Caller, client, id string) (V, error)) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, id, err := clientItemIDs(r, idVar)
		if err != nil {
			return err
		}
		v, err := f(r.Context(), caller(r), client, id)
		if err != nil {
			return err
		}
		encode(w, r, status, v)
		return nil
	})
}

func handleRevokeAuthorization(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleClientItem(logger, "authorization", http.StatusOK, svc.RevokeAuthorization)
}

func handleGetRelease(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleClientItem(logger, "release", http.StatusOK, svc.GetRelease)
}

func handleGetCourtOrder(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleClientItem(logger, "order", http.StatusOK, svc.GetCourtOrder)
}

func handleIssueToken(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleClientItem(logger, "release", http.StatusCreated, svc.IssueToken)
}

// clientItemIDs reads the client path variable and the one named idVar.
func clientItemIDs(r *http.Request, idVar string) (client, id string, err error) {
	if client, err = pathID(r, "client"); err != nil {
		return "", "", err
	}
	id, err = pathID(r, idVar)
	return client, id, err
}

func handleRevokeRelease(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleClientStep(logger, "release", func(ctx context.Context, c access.Caller, client, id string, b struct {
		Reason string `json:"reason"`
	}) (*app.ReleaseView, error) {
		return svc.RevokeRelease(ctx, c, client, id, b.Reason)
	})
}
