package records

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/storage/object"
	"github.com/recordvault/recordvault/vault/vaulttest"
)

// fakeStore keeps objects in memory, keyed as the bucket would key them, with counting ETags,
// and can be told to fail.
type fakeStore struct {
	mu            sync.Mutex
	blobs         map[string][]byte
	manifests     map[Ref][]byte // marshalled, as the bucket would hold them
	etags         map[Ref]int
	links         map[Ref]string      // → home
	homes         map[string][]string // clinic/client → homes
	failManifest  bool
	failLink      bool
	failBlobAfter int // fail the nth blob upload (1-based); 0 never
	blobsSeen     int
	uploads       map[string]Upload // uploads under way, by blob
	aborted       []string          // blobs whose unfinished upload was aborted
}

var _ Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{blobs: map[string][]byte{}, manifests: map[Ref][]byte{}, etags: map[Ref]int{}, links: map[Ref]string{}, homes: map[string][]string{}}
}

func (f *fakeStore) writeManifest(m *Manifest, etag string) (string, error) {
	m.Version = 1
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	if _, err := ParseManifest(bytes.NewReader(b)); err != nil {
		return "", err
	}
	ref := RefOf(m)
	f.mu.Lock()
	defer f.mu.Unlock()
	_, exists := f.manifests[ref]
	switch {
	case etag == "" && exists:
		return "", object.ErrExists
	case etag != "" && etag != strconv.Itoa(f.etags[ref]):
		return "", object.ErrChanged
	}
	f.manifests[ref] = b
	f.etags[ref]++
	return strconv.Itoa(f.etags[ref]), nil
}

func (f *fakeStore) CreateManifest(_ context.Context, m *Manifest) (string, error) {
	if f.failManifest {
		return "", errors.New("storage down")
	}
	return f.writeManifest(m, "")
}

func (f *fakeStore) ReplaceManifest(_ context.Context, m *Manifest, etag string) (string, error) {
	return f.writeManifest(m, etag)
}

func (f *fakeStore) ReadManifest(_ context.Context, ref Ref) (*Manifest, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if home, ok := f.links[ref]; ok {
		ref.Client = home
	}
	b, ok := f.manifests[ref]
	if !ok {
		return nil, "", object.ErrNotFound
	}
	m, err := ParseManifest(bytes.NewReader(b))
	return m, strconv.Itoa(f.etags[ref]), err
}

func (f *fakeStore) DeleteManifest(_ context.Context, m *Manifest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.manifests, RefOf(m))
	return nil
}

func (f *fakeStore) LinkParticipant(_ context.Context, clinic, client, home, record string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failLink && len(f.links) > 0 {
		return errors.New("storage down")
	}
	f.links[Ref{Clinic: clinic, Client: client, Record: record}] = home
	return nil
}

func (f *fakeStore) AddHome(_ context.Context, clinic, client, home string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k := clinic + "/" + client; !slices.Contains(f.homes[k], home) {
		f.homes[k] = append(f.homes[k], home)
	}
	return nil
}

func (f *fakeStore) ListHomes(_ context.Context, clinic, client string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(slices.Values(f.homes[clinic+"/"+client])), nil
}

func (f *fakeStore) UnlinkParticipant(_ context.Context, clinic, client, record string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.links, Ref{Clinic: clinic, Client: client, Record: record})
	return nil
}

func (f *fakeStore) refs() []Ref {
	return append(slices.Collect(maps.Keys(f.manifests)), slices.Collect(maps.Keys(f.links))...)
}

func (f *fakeStore) ListClientRecords(_ context.Context, _, client, after string, limit int) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, r := range f.refs() {
		if r.Client == client && r.Record > after {
			ids = append(ids, r.Record)
		}
	}
	slices.Sort(ids)
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	return ids, nil
}

func (f *fakeStore) ListChildren(_ context.Context, _, parent string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for r := range f.manifests {
		if r.Parent == parent {
			ids = append(ids, r.Record)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// ListClinicDocuments pages through the fake's documents; its cursor is the count listed.
func (f *fakeStore) ListClinicDocuments(_ context.Context, _ string, after string, limit int) ([]Ref, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	all := f.refs()
	slices.SortFunc(all, func(a, b Ref) int {
		return cmp.Or(cmp.Compare(a.Client, b.Client), cmp.Compare(a.Parent, b.Parent), cmp.Compare(a.Record, b.Record))
	})
	from, _ := strconv.Atoi(after)
	to := min(from+limit, len(all))
	if to == len(all) {
		return all[from:], "", nil
	}
	return all[from:to], strconv.Itoa(to), nil
}

func (f *fakeStore) CreateBlob(_ context.Context, _, record, blob string, r io.Reader, size int64) (string, error) {
	f.blobsSeen++
	if f.blobsSeen == f.failBlobAfter {
		return "", errors.New("upload interrupted")
	}
	b, err := io.ReadAll(r)
	if err != nil || int64(len(b)) != size {
		return "", errors.New("short upload")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blobs[record+"/"+blob] = b
	return "etag", nil
}

func (f *fakeStore) OpenBlob(_ context.Context, _, record, blob string) (io.ReadCloser, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.blobs[record+"/"+blob]
	if !ok {
		return nil, 0, object.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
}

func (f *fakeStore) OpenBlobRange(_ context.Context, _, record, blob string, start, length int64) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.blobs[record+"/"+blob]
	return io.NopCloser(bytes.NewReader(b[start:min(start+length, int64(len(b)))])), nil
}

func (f *fakeStore) DeleteBlob(_ context.Context, _, record, blob string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.blobs, record+"/"+blob)
	return nil
}

func (f *fakeStore) BeginUpload(_ context.Context, u Upload) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.uploads == nil {
		f.uploads = map[string]Upload{}
	}
	f.uploads[u.Blob] = u
	return nil
}

func (f *fakeStore) EndUpload(_ context.Context, _, blob string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.uploads, blob)
	return nil
}

func (f *fakeStore) ListUploads(context.Context, string, int) ([]Upload, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Collect(maps.Values(f.uploads)), nil
}

func (f *fakeStore) AbortUpload(_ context.Context, _, _, blob string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.aborted = append(f.aborted, blob)
	return nil
}

func twoAttachments() []NewAttachment {
	return []NewAttachment{{Body: strings.NewReader("first"), Size: 5}, {Body: strings.NewReader("second"), Size: 6}}
}

func newService(store *fakeStore) *Service { return New(vaulttest.Keyring{}, store, nil) }

func newRecord(fields map[string][]byte, attachments ...NewAttachment) NewRecord {
	return NewRecord{Clinic: "c", Category: recordvault.Evaluation, Participants: []string{"p"}, Author: "dr-lee",
		Fields: fields, Attachments: attachments}
}

// A record whose manifest cannot be stored leaves no attachment behind.
func TestCreateRemovesAttachmentsWhenTheManifestFails(t *testing.T) {
	store := newFakeStore()
	store.failManifest = true
	if _, err := newService(store).Create(context.Background(), newRecord(nil, twoAttachments()...)); err == nil {
		t.Fatal("create succeeded")
	}
	if len(store.blobs) != 0 || store.blobsSeen != 2 {
		t.Fatalf("after a failed create: %d blobs left of %d uploaded", len(store.blobs), store.blobsSeen)
	}
}

// An upload that fails midway removes the attachments before it and stores no manifest.
func TestCreateRemovesAttachmentsWhenAnUploadFails(t *testing.T) {
	store := newFakeStore()
	store.failBlobAfter = 2
	if _, err := newService(store).Create(context.Background(), newRecord(nil, twoAttachments()...)); err == nil {
		t.Fatal("create succeeded")
	}
	if len(store.blobs) != 0 || len(store.manifests) != 0 {
		t.Fatalf("after a failed create: %d blobs, %d manifests", len(store.blobs), len(store.manifests))
	}
}

// A couples record whose second participant's marker fails leaves nothing: no manifest, no
// blob, no first marker.
func TestCreateRemovesEverythingWhenALinkFails(t *testing.T) {
	store := newFakeStore()
	store.failLink = true
	rec := newRecord(nil, twoAttachments()...)
	rec.Participants = []string{"p", "q", "r"}
	if _, err := newService(store).Create(context.Background(), rec); err == nil {
		t.Fatal("create succeeded")
	}
	if len(store.blobs)+len(store.manifests)+len(store.links) != 0 {
		t.Fatalf("after a failed create: %d blobs, %d manifests, %d links", len(store.blobs), len(store.manifests), len(store.links))
	}
}

func TestCreateRefusesUnknownCategory(t *testing.T) {
	store := newFakeStore()
	rec := newRecord(nil)
	rec.Category = "diary"
	if _, err := newService(store).Create(context.Background(), rec); recordvault.ErrorCode(err) != recordvault.EINVALID || len(store.manifests) != 0 {
		t.Fatalf("unknown category: %v, %d manifests", err, len(store.manifests))
	}
}

// A malformed id is refused before any key is made or anything stored.
func TestCreateRefusesMalformedIDs(t *testing.T) {
	store := newFakeStore()
	for _, ids := range [][]string{{"../c", "p"}, {"c", "P"}, {"c", "p-1"}, {"", "p"}, {"c"}} {
		rec := newRecord(nil)
		rec.Clinic, rec.Participants = ids[0], ids[1:]
		if _, err := newService(store).Create(context.Background(), rec); recordvault.ErrorCode(err) != recordvault.EINVALID || len(store.manifests) != 0 {
			t.Fatalf("ids %q: %v", ids, err)
		}
	}
}

func TestLoadMissingRecordIsNotFound(t *testing.T) {
	for _, id := range []string{"nope", "../x", ""} {
		if _, err := newService(newFakeStore()).Load(context.Background(), "c", "p", id); recordvault.ErrorCode(err) != recordvault.ENOTFOUND {
			t.Fatalf("%q: err = %v", id, err)
		}
	}
}

// A draft changes until it is signed; after that every change is a conflict, and a change
// is an addendum, listed with the record.
func TestDraftSignAddendum(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	svc := newService(store)
	d, err := svc.Create(ctx, newRecord(map[string][]byte{"summary": []byte("first")}))
	if err != nil || d.Status != recordvault.StatusDraft {
		t.Fatalf("create: %v, %+v", err, d)
	}
	if err := svc.Update(ctx, d, map[string][]byte{"summary": []byte("second")}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddAttachment(ctx, d, NewAttachment{Body: strings.NewReader("%PDF-1.7"), Size: 8, MediaType: "application/pdf"}); err != nil {
		t.Fatal(err)
	}
	stale, _ := svc.Load(ctx, "c", "p", d.ID)
	if err := svc.Sign(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := svc.Update(ctx, stale, map[string][]byte{"summary": []byte("behind the signature")}); recordvault.ErrorCode(err) != recordvault.ECONFLICT {
		t.Fatalf("update from a stale load after signing: %v", err)
	}
	signed, err := svc.Load(ctx, "c", "p", d.ID)
	if err != nil || signed.Status != recordvault.StatusSigned || len(signed.Attachments) != 1 {
		t.Fatalf("signed: %v, %+v", err, signed)
	}
	for name, change := range map[string]func() error{
		"update":     func() error { return svc.Update(ctx, signed, nil) },
		"attachment": func() error { _, err := svc.AddAttachment(ctx, signed, twoAttachments()[0]); return err },
		"sign again": func() error { return svc.Sign(ctx, signed) },
	} {
		if err := change(); recordvault.ErrorCode(err) != recordvault.ECONFLICT {
			t.Errorf("%s on a signed record: %v", name, err)
		}
	}
	fields, err := svc.Read(ctx, signed, nil)
	if err != nil || string(fields["summary"]) != "second" {
		t.Fatalf("read: %v, %q", err, fields)
	}
	add, err := svc.AddChild(ctx, signed, NewChild{Kind: recordvault.AddendumDocument, Author: "dr-lee", Status: recordvault.StatusSigned,
		Fields: map[string][]byte{"text": []byte("a correction")}})
	if err != nil {
		t.Fatal(err)
	}
	kids, err := svc.Children(ctx, signed)
	if err != nil || len(kids) != 1 || kids[0].ID != add.ID || kids[0].Parent != signed.ID || kids[0].Category != signed.Category {
		t.Fatalf("children: %v, %+v", err, kids)
	}
	if ids, _ := svc.List(ctx, "c", "p", "", 0); !slices.Equal(ids, []string{d.ID}) {
		t.Fatalf("the client's records are %v, want only the record", ids)
	}
}

// The manifest's description is sealed: a bucket edit that names another author, adds a
// participant, unsigns the record or hides a field is refused when the record is read.
func TestReadRefusesAnEditedDescription(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	svc := newService(store)
	d, err := svc.Create(ctx, NewRecord{Clinic: "c", Category: recordvault.PsychotherapyNote, Participants: []string{"p", "q"},
		Author: "dr-lee", Sign: true, Fields: map[string][]byte{"process_notes": []byte("x"), "extra": []byte("y")}})
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(m *Manifest){
		"author":      func(m *Manifest) { m.Author = "dr-evil" },
		"participant": func(m *Manifest) { m.Participants = append(m.Participants, "q") },
		"status":      func(m *Manifest) { m.Status = string(recordvault.StatusDraft) },
		"field":       func(m *Manifest) { delete(m.Fields, "extra") },
		"kind":        func(m *Manifest) { m.Kind = string(recordvault.AddendumDocument) },
	} {
		ref := RefOf(d.m)
		original := store.manifests[ref]
		m, _ := ParseManifest(bytes.NewReader(original))
		edit(m)
		store.manifests[ref], _ = json.Marshal(m)
		for _, via := range d.Participants {
			edited, err := svc.Load(ctx, "c", via, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Read(ctx, edited, nil); !errors.Is(err, ErrUnreadable) {
				t.Errorf("%s edited, read through %s: %v", name, via, err)
			}
		}
		store.manifests[ref] = original
	}
}

func TestKeyNamesAreDistinctPerClinicAndCategory(t *testing.T) {
	seen := map[string]bool{}
	for _, clinic := range []string{"a1", "a1b", "b"} {
		for _, c := range recordvault.Categories {
			name := KeyName(clinic, c)
			if seen[name] || !strings.HasPrefix(name, "rv-"+clinic+"-") {
				t.Fatalf("key name %s repeated or not under its clinic's prefix", name)
			}
			seen[name] = true
		}
	}
}

// An amendment request only grows: each step adds a part and moves the status on, a step
// that does not follow from the stored status is refused, and a part is never replaced.
func TestAppendAmendment(t *testing.T) {
	ctx := context.Background()
	svc := newService(newFakeStore())
	rec, err := svc.Create(ctx, NewRecord{Clinic: "c", Category: recordvault.ProgressNote, Participants: []string{"p"},
		Author: "dr-lee", Sign: true, Fields: map[string][]byte{"plan": []byte("weekly")}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := svc.AddChild(ctx, rec, NewChild{Kind: recordvault.AmendmentDocument, Author: "dr-lee", Status: recordvault.StatusRequested,
		Fields: map[string][]byte{recordvault.AmendmentRequestPart: []byte(`{"requested_change":"x"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	stale, _ := svc.LoadChild(ctx, rec, req.ID)
	deny := recordvault.Step{Part: recordvault.AmendmentDecisionPart, Value: []byte(`{"outcome":"denied"}`),
		From: recordvault.StatusRequested, Status: recordvault.StatusDenied}
	if err := svc.AppendAmendment(ctx, req, deny); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		d    *Document
		step recordvault.Step
	}{
		"stale load":       {stale, recordvault.Step{Part: recordvault.AmendmentExtensionPart, From: recordvault.StatusRequested, Status: recordvault.StatusRequested}},
		"wrong status":     {req, recordvault.Step{Part: recordvault.AmendmentExtensionPart, From: recordvault.StatusRequested, Status: recordvault.StatusRequested}},
		"part replaced":    {req, recordvault.Step{Part: recordvault.AmendmentDecisionPart, From: recordvault.StatusDenied, Status: recordvault.StatusAccepted}},
		"not an amendment": {rec, recordvault.Step{Part: "plan", From: recordvault.StatusSigned, Status: recordvault.StatusSigned}},
	} {
		if err := svc.AppendAmendment(ctx, c.d, c.step); recordvault.ErrorCode(err) != recordvault.ECONFLICT {
			t.Errorf("%s: %v, want conflict", name, err)
		}
	}
	got, err := svc.LoadChild(ctx, rec, req.ID)
	if err != nil || got.Status != recordvault.StatusDenied {
		t.Fatalf("stored amendment: %v, %+v", err, got)
	}
	parts, err := svc.Read(ctx, got, nil)
	if err != nil || string(parts[recordvault.AmendmentDecisionPart]) != `{"outcome":"denied"}` || len(parts) != 2 {
		t.Fatalf("stored parts: %v, %q", err, parts)
	}
}

func TestFingerprint(t *testing.T) {
	ctx := context.Background()
	svc := newService(newFakeStore())
	d, err := svc.Create(ctx, NewRecord{Clinic: "c", Category: recordvault.Evaluation, Participants: []string{"p"}, Author: "dr-lee",
		Fields: map[string][]byte{"summary": []byte("s"), "instruments": []byte("i")}})
	if err != nil {
		t.Fatal(err)
	}
	summary, both := Fingerprint(d, []string{"summary"}), Fingerprint(d, []string{"summary", "instruments"})
	if summary == both || both != Fingerprint(d, []string{"instruments", "summary"}) || !strings.HasPrefix(summary, "sha256:") {
		t.Fatalf("fingerprints %s, %s", summary, both)
	}
	if err := svc.Update(ctx, d, map[string][]byte{"summary": []byte("s"), "instruments": []byte("i")}); err != nil {
		t.Fatal(err)
	}
	if Fingerprint(d, []string{"summary"}) == summary {
		t.Error("the same fingerprint after the field was sealed again")
	}
}

// A client's index of homes names the first participant of every record they take part in
// under another client, once each; a rebuild from the records restores it.
func TestHomes(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	svc := newService(store)
	for _, group := range [][]string{{"a", "b", "c"}, {"b", "c"}, {"a", "c"}, {"c"}} {
		rec := newRecord(map[string][]byte{"summary": []byte("s")})
		rec.Participants = group
		if _, err := svc.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{"a": nil, "b": {"a"}, "c": {"a", "b"}}
	check := func(when string) {
		for client, homes := range want {
			if got, err := svc.Homes(ctx, "c", client); err != nil || !slices.Equal(got, homes) {
				t.Errorf("%s: homes of %s: %v %v, want %v", when, client, got, err, homes)
			}
		}
	}
	check("as written")
	store.homes = map[string][]string{}
	if links, err := RebuildHomes(ctx, store, "c"); err != nil || links != 4 {
		t.Fatalf("rebuild: %d links, %v", links, err)
	}
	check("rebuilt")
}

// A record whose Before refuses is sealed but never stored, and Create answers its error.
func TestCreateStoresNothingWhenBeforeRefuses(t *testing.T) {
	store := newFakeStore()
	refused := errors.New("the audit trail cannot record this")
	rec := newRecord(map[string][]byte{"summary": []byte("s")}, NewAttachment{Body: strings.NewReader("%PDF-1.7"), Size: 8})
	called := 0
	rec.Before = func() error { called++; return refused }
	if _, err := newService(store).Create(context.Background(), rec); !errors.Is(err, refused) || called != 1 {
		t.Fatalf("create: %v, Before called %d times", err, called)
	}
	if len(store.manifests) != 0 || len(store.blobs) != 0 {
		t.Fatalf("stored: %d manifests, %d blobs", len(store.manifests), len(store.blobs))
	}
}
