package storage

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func validManifest() *Manifest {
	return &Manifest{Version: 1, Clinic: "c1", Client: "p1", Record: "r1", Category: "progress_note",
		TransitKey: "rv-c1-progress-note", WrappedKey: "vault:v1:abc", Fields: map[string][]byte{"plan": {1, 2, 3}},
		Blobs: []Blob{{ID: "b1", Size: 10, EncryptedSize: 101}}}
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
