package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/audit"
)

// caller is the access-rules view of the authenticated principal.
func caller(r *http.Request) access.Caller {
	p := principal(r.Context())
	return access.Caller{ID: p.Subject, Clinic: p.Clinic, Roles: p.Roles}
}

// handle adapts a handler that returns an error: the error is answered as a problem.
func handle(logger *slog.Logger, f func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			writeProblem(w, r, logger, err)
		}
	})
}

// handleClientRead answers a GET about one client with what read returns for them.
func handleClientRead[T any](logger *slog.Logger, read func(ctx context.Context, c access.Caller, client string) (T, error)) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, err := pathID(r, "client")
		if err != nil {
			return err
		}
		v, err := read(r.Context(), caller(r), client)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, v)
		return nil
	})
}

// list is a page of a list, and where the next one starts.
type list[T any] struct {
	Items     []T    `json:"items"`
	NextAfter string `json:"next_after,omitempty"`
}

func newList[T any](items []T, limit int, id func(T) string) list[T] {
	l := list[T]{Items: items}
	if len(items) == limit {
		l.NextAfter = id(items[len(items)-1])
	}
	return l
}

func handleListClinicians(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		cs, err := svc.Clinicians(r.Context(), caller(r))
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, list[recordvault.Clinician]{Items: cs})
		return nil
	})
}

func handlePutClinician(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Name     string `json:"name"`
			Licensed bool   `json:"licensed"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		subject, err := pathSubject(r)
		if err != nil {
			return err
		}
		c := recordvault.Clinician{Subject: subject, Name: body.Name, Licensed: body.Licensed}
		if err := svc.PutClinician(r.Context(), caller(r), c); err != nil {
			return err
		}
		encode(w, r, http.StatusOK, c)
		return nil
	})
}

type newClient struct {
	Identity recordvault.Identity `json:"identity"`
	CareTeam []string             `json:"care_team"`
}

func handleRemoveClinician(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		subject, err := pathSubject(r)
		if err != nil {
			return err
		}
		if err := svc.RemoveClinician(r.Context(), caller(r), subject); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func handleCreateClient(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		var body newClient
		if err := decode(w, r, &body); err != nil {
			return err
		}
		v, err := svc.CreateClient(r.Context(), caller(r), body.Identity, body.CareTeam)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusCreated, v)
		return nil
	})
}

func handleListClients(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		after, limit, err := page(r)
		if err != nil {
			return err
		}
		ids, err := svc.ListClients(r.Context(), caller(r), after, limit)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, newList(ids, limit, func(id string) string { return id }))
		return nil
	})
}

// handleFindClients finds clients by exact name and date of birth. It is a POST so that
// neither ever stands in a URL, where proxies and logs keep them.
func handleFindClients(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			FullName    string `json:"full_name"`
			DateOfBirth string `json:"date_of_birth"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		if body.FullName == "" || body.DateOfBirth == "" {
			return recordvault.Errorf(recordvault.EINVALID, "a search names a full name and a date of birth (YYYY-MM-DD)")
		}
		found, err := svc.FindClients(r.Context(), caller(r), body.FullName, body.DateOfBirth)
		if err != nil {
			return err
		}
		padToFloor(r)
		encode(w, r, http.StatusOK, list[app.ClientView]{Items: found})
		return nil
	})
}

func handleGetClient(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleClientRead(logger, svc.GetClient)
}

func handleSetCareTeam(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, err := pathID(r, "client")
		if err != nil {
			return err
		}
		var body struct {
			Clinicians []string `json:"clinicians"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		v, err := svc.SetCareTeam(r.Context(), caller(r), client, body.Clinicians)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, v)
		return nil
	})
}

func handleCreateRecord(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, err := pathID(r, "client")
		if err != nil {
			return err
		}
		var body app.NewRecord
		if err := decode(w, r, &body); err != nil {
			return err
		}
		for _, p := range body.OtherParticipants {
			if !recordvault.ValidID(p) {
				return recordvault.Errorf(recordvault.EINVALID, "malformed participant id: lowercase letters and digits only")
			}
		}
		v, err := svc.CreateRecord(r.Context(), caller(r), client, body)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusCreated, v)
		return nil
	})
}

func handleListRecords(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, err := pathID(r, "client")
		if err != nil {
			return err
		}
		after, limit, err := page(r)
		if err != nil {
			return err
		}
		rs, err := svc.ListRecords(r.Context(), caller(r), client, after, limit)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, newList(rs, limit, func(v *app.RecordView) string { return v.ID }))
		return nil
	})
}

// recordIDs reads the client and record path variables.
func recordIDs(r *http.Request) (client, record string, err error) { return clientItemIDs(r, "record") }

// recordPartIDs reads the client, the record and the id named name of something of the
// record's (an attachment, an amendment request) from the path.
func recordPartIDs(r *http.Request, name string) (client, record, id string, err error) {
	if client, record, err = recordIDs(r); err != nil {
		return "", "", "", err
	}
	id, err = pathID(r, name)
	return client, record, id, err
}

func handleGetRecord(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, record, err := recordIDs(r)
		if err != nil {
			return err
		}
		v, err := svc.GetRecord(r.Context(), caller(r), client, record)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, v)
		return nil
	})
}

func handleUpdateRecord(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, record, err := recordIDs(r)
		if err != nil {
			return err
		}
		var body struct {
			Fields map[string]json.RawMessage `json:"fields"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		v, err := svc.UpdateRecord(r.Context(), caller(r), client, record, body.Fields)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, v)
		return nil
	})
}

func handleSignRecord(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, record, err := recordIDs(r)
		if err != nil {
			return err
		}
		v, err := svc.SignRecord(r.Context(), caller(r), client, record)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, v)
		return nil
	})
}

func handleAddAddendum(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, record, err := recordIDs(r)
		if err != nil {
			return err
		}
		var body struct {
			Text     string   `json:"text"`
			Concerns []string `json:"concerns"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		v, err := svc.AddAddendum(r.Context(), caller(r), client, record, body.Text, body.Concerns)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusCreated, v)
		return nil
	})
}

// handleAddAttachment streams a PDF body into an encrypted attachment. The length must be
// given (Content-Length): the encrypted size is fixed before the first byte is stored.
func handleAddAttachment(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, record, err := recordIDs(r)
		if err != nil {
			return err
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != app.MediaTypePDF {
			return recordvault.Errorf(recordvault.EMEDIATYPE, "attachments are sent as application/pdf")
		}
		if r.ContentLength < 0 {
			return recordvault.Errorf(recordvault.EINVALID, "an attachment is sent with its Content-Length")
		}
		allowBody(r, r.ContentLength)
		body := http.MaxBytesReader(w, r.Body, r.ContentLength)
		v, err := svc.AddAttachment(r.Context(), caller(r), client, record, body, r.ContentLength)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusCreated, v)
		return nil
	})
}

// handleGetAttachment streams an attachment's plaintext, or one byte range of it (RFC 9110
// 14: a single "bytes=first-last", "first-" or "-suffix" range).
func handleGetAttachment(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, record, blob, err := recordPartIDs(r, "attachment")
		if err != nil {
			return err
		}
		off, n, ranged, err := parseRange(r.Header.Get("Range"))
		if err != nil {
			return err
		}
		a, err := svc.OpenAttachment(r.Context(), caller(r), client, record, blob, off, n)
		if recordvault.ErrorCode(err) == recordvault.ERANGE {
			w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(a.Size, 10))
		}
		if err != nil {
			return err
		}
		defer a.Close()
		h := w.Header()
		h.Set("Content-Type", app.MediaTypePDF)
		h.Set("Content-Disposition", `attachment; filename="`+blob+`.pdf"`)
		h.Set("Accept-Ranges", "bytes")
		h.Set("Content-Length", strconv.FormatInt(a.N, 10))
		status := http.StatusOK
		if ranged {
			status = http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a.Off, a.Off+a.N-1, a.Size))
		}
		w.WriteHeader(status)
		if r.Method == http.MethodHead {
			return nil
		}
		if _, err := io.Copy(w, a); err != nil {
			// The status is sent: the caller sees a short body. The error names no content.
			logger.WarnContext(r.Context(), "attachment stream ended early", "err", err)
		}
		return nil
	})
}

// parseRange reads a Range header: none gives (0, -1, false); "bytes=a-b" (a, b-a+1);
// "bytes=a-" (a, -1); "bytes=-s" (-s, -1), a suffix, resolved once the size is known.
func parseRange(h string) (off, n int64, ranged bool, err error) {
	if h == "" {
		return 0, -1, false, nil
	}
	bad := recordvault.Errorf(recordvault.ERANGE, "only one byte range, as bytes=first-last, bytes=first- or bytes=-suffix")
	spec, ok := strings.CutPrefix(h, "bytes=")
	first, last, ok2 := strings.Cut(spec, "-")
	if !ok || !ok2 || strings.Contains(spec, ",") {
		return 0, 0, false, bad
	}
	if first == "" {
		s, err := strconv.ParseInt(last, 10, 64)
		if err != nil || s <= 0 {
			return 0, 0, false, bad
		}
		return -s, -1, true, nil
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 {
		return 0, 0, false, bad
	}
	if last == "" {
		return a, -1, true, nil
	}
	b, err := strconv.ParseInt(last, 10, 64)
	if err != nil || b < a {
		return 0, 0, false, bad
	}
	return a, b - a + 1, true, nil
}

func handleRequestAmendment(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, record, err := recordIDs(r)
		if err != nil {
			return err
		}
		var body struct {
			Received        string   `json:"received"`
			RequestedChange string   `json:"requested_change"`
			Reason          string   `json:"reason"`
			Concerns        []string `json:"concerns"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		a, err := svc.RequestAmendment(r.Context(), caller(r), client, record,
			recordvault.AmendmentRequest{Received: body.Received, Change: body.RequestedChange, Reason: body.Reason, Concerns: body.Concerns})
		if err != nil {
			return err
		}
		encode(w, r, http.StatusCreated, a)
		return nil
	})
}

// amendmentStep is one step taken on an amendment request: its body, and the service call
// that takes it.
type amendmentStep[T any] func(ctx context.Context, c access.Caller, client, record, id string, body T) (*recordvault.Amendment, error)

// handleAmendmentStep decodes a step's body, takes the step and answers with the request.
func handleAmendmentStep[T any](logger *slog.Logger, step amendmentStep[T]) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, record, id, err := recordPartIDs(r, "amendment")
		if err != nil {
			return err
		}
		var body T
		if err := decode(w, r, &body); err != nil {
			return err
		}
		a, err := step(r.Context(), caller(r), client, record, id, body)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, a)
		return nil
	})
}

func handleAmendmentRecipients(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		client, record, id, err := recordPartIDs(r, "amendment")
		if err != nil {
			return err
		}
		vs, err := svc.AmendmentRecipients(r.Context(), caller(r), client, record, id)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, list[app.ReleaseView]{Items: vs})
		return nil
	})
}

func handleOverdueAmendments(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		overdue, err := svc.OverdueAmendments(r.Context(), caller(r))
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, overdue)
		return nil
	})
}

type extensionBody struct {
	Reason string `json:"reason"`
}

type decisionBody struct {
	Outcome     recordvault.Status       `json:"outcome"`
	Amendment   string                   `json:"amendment"`
	Ground      recordvault.DenialGround `json:"ground"`
	Explanation string                   `json:"explanation"`
}

type disagreementBody struct {
	Statement string `json:"statement"`
}

type rebuttalBody struct {
	Text string `json:"text"`
}

func handleExtendAmendment(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleAmendmentStep(logger, func(ctx context.Context, c access.Caller, client, record, id string, b extensionBody) (*recordvault.Amendment, error) {
		return svc.ExtendAmendment(ctx, c, client, record, id, b.Reason)
	})
}

func handleDecideAmendment(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleAmendmentStep(logger, func(ctx context.Context, c access.Caller, client, record, id string, b decisionBody) (*recordvault.Amendment, error) {
		return svc.DecideAmendment(ctx, c, client, record, id, b.Outcome, b.Amendment, b.Ground, b.Explanation)
	})
}

func handleRecordDisagreement(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleAmendmentStep(logger, func(ctx context.Context, c access.Caller, client, record, id string, b disagreementBody) (*recordvault.Amendment, error) {
		return svc.RecordDisagreement(ctx, c, client, record, id, b.Statement)
	})
}

func handleRebutDisagreement(logger *slog.Logger, svc *app.Service) http.Handler {
	return handleAmendmentStep(logger, func(ctx context.Context, c access.Caller, client, record, id string, b rebuttalBody) (*recordvault.Amendment, error) {
		return svc.RebutDisagreement(ctx, c, client, record, id, b.Text)
	})
}

func handleVerifyAuditTrail(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		earlier, err := earlierHead(r.URL.Query())
		if err != nil {
			return err
		}
		check, err := svc.VerifyAuditTrail(r.Context(), caller(r), earlier)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, check)
		return nil
	})
}

// lossBody acknowledges a loss of the audit trail from block Block.
type lossBody struct {
	Block     *uint64 `json:"block"`
	Reference string  `json:"reference"`
}

func handleAcknowledgeAuditLoss(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		var body lossBody
		if err := decode(w, r, &body); err != nil {
			return err
		}
		if body.Block == nil {
			return recordvault.Errorf(recordvault.EINVALID, "block: the first broken block, as a verification reports it, is required")
		}
		loss, err := svc.AcknowledgeAuditLoss(r.Context(), caller(r), *body.Block, body.Reference)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusCreated, loss)
		return nil
	})
}

var (
	errEarlierHead = recordvault.Errorf(recordvault.EINVALID, "an earlier head is blocks (a whole number above 0) and hash (64 hex digits), both or neither")
	validHeadHash  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// earlierHead reads the head of an earlier verification from the query (blocks, hash).
func earlierHead(q url.Values) (*audit.Head, error) {
	blocks, hash := q.Get("blocks"), q.Get("hash")
	if blocks == "" && hash == "" {
		return nil, nil
	}
	n, err := strconv.ParseUint(blocks, 10, 64)
	if err != nil || n == 0 || !validHeadHash.MatchString(hash) {
		return nil, errEarlierHead
	}
	return &audit.Head{Blocks: n, Hash: hash}, nil
}

func handleGetClinic(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		v, err := svc.GetClinic(r.Context(), caller(r))
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, v)
		return nil
	})
}

func handleSetClinicProfile(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Name    string `json:"name"`
			Contact string `json:"contact"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		v, err := svc.SetClinicProfile(r.Context(), caller(r), body.Name, body.Contact)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, v)
		return nil
	})
}

func handleSetJurisdiction(logger *slog.Logger, svc *app.Service) http.Handler {
	return handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Jurisdiction string `json:"jurisdiction"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		v, err := svc.SetJurisdiction(r.Context(), caller(r), body.Jurisdiction)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, v)
		return nil
	})
}
