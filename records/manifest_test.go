package records

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

func validManifest() *Manifest {
	return &Manifest{Version: 1, Clinic: "c1", Record: "r1", Kind: "record", Category: "progress_note",
		Participants: []string{"p1", "p2"}, Author: "dr-lee", Status: "draft",
		Created: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), Updated: time.Date(2026, 11, 22, 9, 5, 0, 0, time.UTC),
		TransitKey: "rv-c1-progress-note", WrappedKey: "vault:v1:abc", Meta: []byte{9, 9}, Fields: map[string][]byte{"plan": {1, 2, 3}},
		Blobs: []Blob{{ID: "b1", Size: 10, EncryptedSize: 101, MediaType: "application/pdf"}}}
}

func TestParseManifestRefuses(t *testing.T) {
	good, err := validManifest().marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseManifest(bytes.NewReader(good)); err != nil {
		t.Fatalf("valid manifest refused: %v", err)
	}
	for name, doc := range map[string]string{
		"unknown field":     strings.Replace(string(good), `"v":1`, `"v":1,"extra":1`, 1),
		"other version":     strings.Replace(string(good), `"v":1`, `"v":2`, 1),
		"path in an id":     strings.Replace(string(good), `"record":"r1"`, `"record":"../r1"`, 1),
		"hyphen in an id":   strings.Replace(string(good), `"clinic":"c1"`, `"clinic":"c-1"`, 1),
		"no wrapped key":    strings.Replace(string(good), `"wrapped_key":"vault:v1:abc"`, `"wrapped_key":""`, 1),
		"odd field name":    strings.Replace(string(good), `"plan"`, `"Plan Notes"`, 1),
		"negative size":     strings.Replace(string(good), `"size":10`, `"size":-1`, 1),
		"trailing document": string(good) + `{}`,
		"no participants":   strings.Replace(string(good), `"participants":["p1","p2"]`, `"participants":[]`, 1),
		"odd participant":   strings.Replace(string(good), `"participants":["p1","p2"]`, `"participants":["p1","P/2"]`, 1),
		"author with space": strings.Replace(string(good), `"author":"dr-lee"`, `"author":"dr lee"`, 1),
		"no meta":           strings.Replace(string(good), `"meta":"CQk="`, `"meta":""`, 1),
		"odd media type":    strings.Replace(string(good), `"application/pdf"`, `"text/html; charset=x"`, 1),
		"path in a parent":  strings.Replace(string(good), `"record":"r1"`, `"record":"r1","parent":"../r0"`, 1),
		"not json":          "vault:v1:abc",
		"too large":         `{"v":1,"clinic":"` + strings.Repeat("a", MaxManifestSize) + `"}`,
	} {
		if _, err := ParseManifest(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParseManifest: the parser never panics, and whatever it accepts survives a round trip
// through marshal unchanged.
func FuzzParseManifest(f *testing.F) {
	good, _ := validManifest().marshal()
	f.Add(good)
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":1,"fields":{"a":"AAEC"},"blobs":[{"id":"x","size":0,"encrypted_size":85}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		m, err := ParseManifest(bytes.NewReader(doc))
		if err != nil {
			return
		}
		again, err := m.marshal()
		if err != nil {
			t.Fatalf("accepted manifest does not marshal: %v", err)
		}
		m2, err := ParseManifest(bytes.NewReader(again))
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the manifest: %+v vs %+v, %v", m, m2, err)
		}
	})
}
