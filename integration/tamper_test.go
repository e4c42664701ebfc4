//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/crypto"
	"github.com/recordvault/recordvault/crypto/cryptotest"
	"github.com/recordvault/recordvault/records"
)

// storedRecord is a record as the bucket holds it: its manifest and its attachment's object.
type storedRecord struct {
	clinic, client, id string
	manifestKey        string
	manifest           *records.Manifest
	manifestBytes      []byte
	blobKey            string
	blob               []byte
}

func (e *recordsEnv) get(t *testing.T, key string) []byte {
	t.Helper()
	return getObject(t, e.raw, e.bucket, key)
}

func (e *recordsEnv) put(t *testing.T, key string, b []byte) {
	t.Helper()
	putObject(t, e.raw, e.bucket, key, b)
}

func (e *recordsEnv) store(t *testing.T, clinic string, category recordvault.Category, fields map[string][]byte, attachment []byte) storedRecord {
	t.Helper()
	client := newID()
	id, err := e.createRecord(context.Background(), clinic, client, category, fields, attachment)
	if err != nil {
		t.Fatal(err)
	}
	r := storedRecord{clinic: clinic, client: client, id: id, manifestKey: manifestKey(clinic, client, id)}
	r.manifestBytes = e.get(t, r.manifestKey)
	if r.manifest, err = records.ParseManifest(bytes.NewReader(r.manifestBytes)); err != nil {
		t.Fatal(err)
	}
	r.blobKey = "c/" + clinic + "/b/" + id + "/" + r.manifest.Blobs[0].ID
	r.blob = e.get(t, r.blobKey)
	return r
}

// tamper is one damage to the target record's stored objects, and what it must make fail.
type tamper struct {
	name     string
	refuses  refusal
	manifest func(m *records.Manifest) // changes the manifest, or nil
	blob     func([]byte) []byte       // changes the attachment's object, or nil
}

type refusal int

const (
	refuseFields     refusal = iota // a field is damaged: the fields must not be returned
	refuseRecord                    // the key is damaged: neither fields nor attachment
	refuseAttachment                // the attachment is damaged: it must not be returned whole
)

// A suite of distinct damages to a stored record (its manifest's fields and keys, and its
// attachment's stream), including ciphertexts and keys spliced in from another record, another
// category and another clinic: every one is refused, and none releases any plaintext that did
// not authenticate.
func TestTamperSuite(t *testing.T) {
	ctx := context.Background()
	e := newRecordsEnv(t)
	otherClinic := newID()
	if err := vaultClient(t, shared.vault).ProvisionClinic(ctx, otherClinic); err != nil {
		t.Fatal(err)
	}
	fieldNames := []string{"plan", "progress", "risk_assessment"}
	fields := func(tag string) map[string][]byte {
		f := map[string][]byte{}
		for _, n := range fieldNames {
			f[n] = []byte(tag + " " + n + " text")
		}
		return f
	}
	attachment := randomBytes(2*crypto.ChunkSize + 1000)
	target := e.store(t, e.clinic, recordvault.ProgressNote, fields("target"), attachment)
	sources := map[string]storedRecord{
		"another record":   e.store(t, e.clinic, recordvault.ProgressNote, fields("same category"), attachment),
		"another category": e.store(t, e.clinic, recordvault.Evaluation, fields("other category"), attachment),
		"another clinic":   e.store(t, otherClinic, recordvault.ProgressNote, fields("other clinic"), attachment),
	}

	var suite []tamper
	for _, n := range fieldNames {
		for _, at := range []int{0, 1, 12, 13, -1} {
			suite = append(suite, tamper{name: fmt.Sprintf("field %s byte %d flipped", n, at), refuses: refuseFields, manifest: func(m *records.Manifest) {
				f := bytes.Clone(m.Fields[n])
				f[(at+len(f))%len(f)] ^= 0x01
				m.Fields[n] = f
			}})
		}
		suite = append(suite, tamper{name: "field " + n + " truncated", refuses: refuseFields, manifest: func(m *records.Manifest) { m.Fields[n] = m.Fields[n][:len(m.Fields[n])-1] }})
		for from, src := range sources {
			suite = append(suite, tamper{name: "field " + n + " from " + from, refuses: refuseFields, manifest: func(m *records.Manifest) { m.Fields[n] = src.manifest.Fields[n] }})
		}
	}
	suite = append(suite,
		tamper{name: "fields plan and progress swapped", refuses: refuseFields, manifest: func(m *records.Manifest) {
			m.Fields["plan"], m.Fields["progress"] = m.Fields["progress"], m.Fields["plan"]
		}},
		tamper{name: "transit key of another category named", refuses: refuseRecord, manifest: func(m *records.Manifest) {
			m.TransitKey = records.KeyName(m.Clinic, recordvault.Evaluation)
		}},
		tamper{name: "category relabelled, key name to match", refuses: refuseRecord, manifest: func(m *records.Manifest) {
			m.Category, m.TransitKey = string(recordvault.Evaluation), records.KeyName(m.Clinic, recordvault.Evaluation)
		}},
		tamper{name: "wrapped key version bumped", refuses: refuseRecord, manifest: func(m *records.Manifest) { m.WrappedKey = "vault:v2:" + m.WrappedKey[len("vault:v1:"):] }},
		tamper{name: "attachment size changed in the manifest", refuses: refuseAttachment, manifest: func(m *records.Manifest) { m.Blobs[0].EncryptedSize--; m.Blobs[0].Size-- }},
		tamper{name: "attachment dropped from the manifest", refuses: refuseRecord, manifest: func(m *records.Manifest) { m.Blobs = nil }},
		tamper{name: "author renamed", refuses: refuseRecord, manifest: func(m *records.Manifest) { m.Author = "dr-mallory" }},
		tamper{name: "participant added", refuses: refuseRecord, manifest: func(m *records.Manifest) { m.Participants = append(m.Participants, "mallory") }},
		tamper{name: "status set back to draft", refuses: refuseRecord, manifest: func(m *records.Manifest) { m.Status = string(recordvault.StatusDraft) }},
		tamper{name: "kind changed to addendum", refuses: refuseRecord, manifest: func(m *records.Manifest) { m.Kind = string(recordvault.AddendumDocument) }},
		tamper{name: "field removed", refuses: refuseRecord, manifest: func(m *records.Manifest) { delete(m.Fields, "risk_assessment") }},
		tamper{name: "created time changed", refuses: refuseRecord, manifest: func(m *records.Manifest) { m.Created = m.Created.Add(-time.Hour) }},
	)
	for from, src := range sources {
		suite = append(suite,
			tamper{name: "wrapped key from " + from, refuses: refuseRecord, manifest: func(m *records.Manifest) { m.WrappedKey = src.manifest.WrappedKey }},
			tamper{name: "wrapped key and key name from " + from, refuses: refuseRecord, manifest: func(m *records.Manifest) {
				m.WrappedKey, m.TransitKey, m.Category = src.manifest.WrappedKey, src.manifest.TransitKey, src.manifest.Category
			}},
			tamper{name: "attachment from " + from, refuses: refuseAttachment, blob: func([]byte) []byte { return bytes.Clone(src.blob) }},
			tamper{name: "sealed description from " + from, refuses: refuseRecord, manifest: func(m *records.Manifest) { m.Meta = src.manifest.Meta }},
		)
	}
	for _, m := range cryptotest.StreamMutations(target.blob, sources["another record"].blob[:crypto.HeaderSize]) {
		suite = append(suite, tamper{name: "attachment: " + m.Name, refuses: refuseAttachment, blob: m.Apply})
	}
	if len(suite) < 100 {
		t.Fatalf("only %d tampers", len(suite))
	}

	for _, tc := range suite {
		if tc.manifest != nil {
			var m records.Manifest
			if err := json.Unmarshal(target.manifestBytes, &m); err != nil {
				t.Fatal(err)
			}
			tc.manifest(&m)
			b, err := json.Marshal(&m)
			if err != nil {
				t.Fatal(err)
			}
			e.put(t, target.manifestKey, b)
		}
		if tc.blob != nil {
			e.put(t, target.blobKey, tc.blob(target.blob))
		}
		e.checkRefused(t, tc, target, attachment)
		e.put(t, target.manifestKey, target.manifestBytes)
		e.put(t, target.blobKey, target.blob)
	}
	t.Logf("%d distinct tampers on the real stack, all refused", len(suite))
	// The restored record reads back whole: the refusals were the damage, not the set-up.
	_, restored, err := e.readRecord(ctx, target.client, target.id, nil)
	if err != nil || string(restored["plan"]) != "target plan text" {
		t.Fatalf("restored record: %q, %v", restored, err)
	}
}

// checkRefused reads the target through the service and checks that what tc damaged is not
// returned: no field of a damaged field set or key, and no attachment read that completes;
// an attachment read may release only whole chunks that authenticated before the damage.
func (e *recordsEnv) checkRefused(t *testing.T, tc tamper, r storedRecord, attachment []byte) {
	t.Helper()
	ctx := context.Background()
	if tc.refuses == refuseFields || tc.refuses == refuseRecord {
		d, err := e.svc.Load(ctx, r.clinic, r.client, r.id)
		if err != nil {
			t.Fatalf("%s: load: %v", tc.name, err)
		}
		if fields, err := e.svc.Read(ctx, d, nil); err == nil || fields != nil {
			t.Errorf("%s: fields returned: %q", tc.name, fields)
		}
	}
	if tc.refuses == refuseFields {
		return
	}
	d, err := e.svc.Load(ctx, r.clinic, r.client, r.id)
	if err != nil {
		t.Fatalf("%s: load: %v", tc.name, err)
	}
	a, err := e.svc.OpenAttachment(ctx, d, r.manifest.Blobs[0].ID, 0, -1)
	if err != nil {
		if !errors.Is(err, records.ErrUnreadable) {
			t.Errorf("%s: open: err = %v, want ErrUnreadable", tc.name, err)
		}
		return
	}
	var out bytes.Buffer
	_, err = io.Copy(&out, a) // as a download takes it: through WriteTo, a chunk at a time
	a.Close()
	got := out.Bytes()
	if !errors.Is(err, records.ErrUnreadable) {
		t.Errorf("%s: read %d bytes, err = %v; want ErrUnreadable", tc.name, len(got), err)
	}
	if !bytes.HasPrefix(attachment, got) || len(got)%crypto.ChunkSize != 0 {
		t.Errorf("%s: released %d bytes that are not whole authenticated chunks", tc.name, len(got))
	}
}
