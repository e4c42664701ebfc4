package records

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/storage"
	"github.com/recordvault/recordvault/vault"
)

// fakeKeyring "wraps" a data key by base64-encoding it with its context: enough to test the
// service's bookkeeping, nothing more.
type fakeKeyring struct{}

var _ Keyring = fakeKeyring{}

func (fakeKeyring) EnsureKey(context.Context, string) error { return nil }
func (fakeKeyring) NewDataKey(_ context.Context, _ string, keyContext []byte) (vault.DataKey, error) {
	k := bytes.Repeat([]byte{7}, 32)
	return vault.DataKey{Plaintext: bytes.Clone(k), Wrapped: "vault:v1:" + base64.StdEncoding.EncodeToString(append(k, keyContext...))}, nil
}
func (fakeKeyring) UnwrapDataKeys(_ context.Context, _ string, keys []vault.WrappedKey) ([][]byte, error) {
	var out [][]byte
	for _, k := range keys {
		b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(k.Wrapped, "vault:v1:"))
		if len(b) < 32 || !bytes.Equal(b[32:], k.Context) {
			return nil, vault.ErrUnwrap
		}
		out = append(out, b[:32])
	}
	return out, nil
}
func (fakeKeyring) RewrapDataKeys(context.Context, string, []vault.WrappedKey) ([]string, error) {
	return nil, errors.New("not used")
}
func (fakeKeyring) RotateKey(context.Context, string) error                    { return nil }
func (fakeKeyring) SetMinDecryptionVersion(context.Context, string, int) error { return nil }

// fakeStore keeps objects in memory and can be told to fail.
type fakeStore struct {
	storage.Store // unimplemented methods panic
	mu            sync.Mutex
	blobs         map[string][]byte
	manifests     map[string]*storage.Manifest
	failManifest  bool
	failBlobAfter int // fail the nth blob upload (1-based); 0 never
	blobsSeen     int
}

func newFakeStore() *fakeStore {
	return &fakeStore{blobs: map[string][]byte{}, manifests: map[string]*storage.Manifest{}}
}

func (f *fakeStore) CreateManifest(_ context.Context, m *storage.Manifest) (string, error) {
	if f.failManifest {
		return "", errors.New("storage down")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.manifests[m.Record] = m
	return "etag", nil
}

func (f *fakeStore) ReadManifest(_ context.Context, _, _, record string) (*storage.Manifest, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.manifests[record]
	if !ok {
		return nil, "", storage.ErrNotFound
	}
	return m, "etag", nil
}

func (f *fakeStore) CreateBlob(_ context.Context, _, _, record, blob string, r io.Reader, size int64) (string, error) {
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

func (f *fakeStore) DeleteBlob(_ context.Context, _, _, record, blob string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.blobs, record+"/"+blob)
	return nil
}

func twoAttachments() []NewAttachment {
	return []NewAttachment{{Body: strings.NewReader("first"), Size: 5}, {Body: strings.NewReader("second"), Size: 6}}
}

// A record whose manifest cannot be stored leaves no attachment behind.
func TestPutRemovesAttachmentsWhenTheManifestFails(t *testing.T) {
	store := newFakeStore()
	store.failManifest = true
	svc := New(fakeKeyring{}, store)
	_, err := svc.Put(context.Background(), NewRecord{Clinic: "c", Client: "p", Category: recordvault.Evaluation, Attachments: twoAttachments()})
	if err == nil {
		t.Fatal("put succeeded")
	}
	if len(store.blobs) != 0 || store.blobsSeen != 2 {
		t.Fatalf("after a failed put: %d blobs left of %d uploaded", len(store.blobs), store.blobsSeen)
	}
}

// An upload that fails midway removes the attachments before it and stores no manifest.
func TestPutRemovesAttachmentsWhenAnUploadFails(t *testing.T) {
	store := newFakeStore()
	store.failBlobAfter = 2
	svc := New(fakeKeyring{}, store)
	if _, err := svc.Put(context.Background(), NewRecord{Clinic: "c", Client: "p", Category: recordvault.Evaluation, Attachments: twoAttachments()}); err == nil {
		t.Fatal("put succeeded")
	}
	if len(store.blobs) != 0 || len(store.manifests) != 0 {
		t.Fatalf("after a failed put: %d blobs, %d manifests", len(store.blobs), len(store.manifests))
	}
}

func TestPutRefusesUnknownCategory(t *testing.T) {
	store := newFakeStore()
	_, err := New(fakeKeyring{}, store).Put(context.Background(), NewRecord{Clinic: "c", Client: "p", Category: "diary"})
	if recordvault.ErrorCode(err) != recordvault.EINVALID || len(store.manifests) != 0 {
		t.Fatalf("unknown category: %v, %d manifests", err, len(store.manifests))
	}
}

// A malformed id is refused before any key is made or anything stored.
func TestPutRefusesMalformedIDs(t *testing.T) {
	store := newFakeStore()
	for _, ids := range [][2]string{{"../c", "p"}, {"c", "P"}, {"c", "p-1"}, {"", "p"}} {
		_, err := New(fakeKeyring{}, store).Put(context.Background(), NewRecord{Clinic: ids[0], Client: ids[1], Category: recordvault.ProgressNote})
		if recordvault.ErrorCode(err) != recordvault.EINVALID || len(store.manifests) != 0 {
			t.Fatalf("ids %q: %v", ids, err)
		}
	}
}

func TestGetMissingRecordIsNotFound(t *testing.T) {
	_, err := New(fakeKeyring{}, newFakeStore()).Get(context.Background(), "c", "p", "nope", nil)
	if recordvault.ErrorCode(err) != recordvault.ENOTFOUND {
		t.Fatalf("err = %v", err)
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
