package crypto

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"os"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata/vectors.json from fixed randomness")

// vector is one checked-in test vector: a ciphertext and what opening it must give. Another
// implementation of docs/FORMAT.md can check itself against the same file.
type vector struct {
	Name            string  `json:"name"`
	Kind            string  `json:"kind"` // "field" or "stream"
	DataKey         string  `json:"data_key"`
	Binding         Binding `json:"binding"`
	Ciphertext      string  `json:"ciphertext"`       // base64
	Expect          string  `json:"expect"`           // "ok" or "authentication failure"
	PlaintextSHA256 string  `json:"plaintext_sha256"` // when Expect is "ok"
}

const vectorsFile = "testdata/vectors.json"

// generateVectors builds every vector from fixed randomness, so regeneration is reproducible.
func generateVectors(t *testing.T) []vector {
	dk := make([]byte, DataKeySize)
	io.ReadFull(fixedRand(42), dk)
	key := func() *RecordKey {
		k, err := NewRecordKey(bytes.Clone(dk))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	b := Binding{Clinic: "clinic01", Category: "evaluation", Record: "rec01", Name: "att01"}
	var vs []vector
	add := func(name, kind string, b Binding, ct, plaintext []byte, ok bool) {
		v := vector{Name: name, Kind: kind, DataKey: hex.EncodeToString(dk), Binding: b,
			Ciphertext: base64.StdEncoding.EncodeToString(ct), Expect: "authentication failure"}
		if ok {
			sum := sha256.Sum256(plaintext)
			v.Expect, v.PlaintextSHA256 = "ok", hex.EncodeToString(sum[:])
		}
		vs = append(vs, v)
	}

	fb := b
	fb.Category, fb.Name = "progress_note", "plan"
	text := []byte("Continue weekly sessions.")
	field, err := key().SealField(fixedRand(1), fb, text)
	if err != nil {
		t.Fatal(err)
	}
	add("field", "field", fb, field, text, true)
	flipped := bytes.Clone(field)
	flipped[len(flipped)-1] ^= 1
	add("field tag flipped", "field", fb, flipped, nil, false)

	for _, size := range []int{0, 1, ChunkSize, ChunkSize + 1} {
		p := make([]byte, size)
		io.ReadFull(fixedRand(byte(size%251)), p)
		add("stream of "+strconv.Itoa(size)+" bytes", "stream", b, encrypt(t, key(), fixedRand(2), b, p), p, true)
	}

	p := make([]byte, ChunkSize+1)
	io.ReadFull(fixedRand(3), p)
	two := encrypt(t, key(), fixedRand(4), b, p)
	add("truncated at the chunk boundary", "stream", b, two[:HeaderSize+sealedChunk], nil, false)
	add("last chunk dropped, header kept", "stream", b, two[:HeaderSize+sealedChunk], nil, false)
	add("trailing byte", "stream", b, append(bytes.Clone(two), 0), nil, false)
	wrongSalt := bytes.Clone(two)
	wrongSalt[5] ^= 1
	add("salt changed (commitment mismatch)", "stream", b, wrongSalt, nil, false)

	// Streams only a key holder could make, broken in the ways the format forbids.
	one := make([]byte, 100)
	add("single chunk without the last flag", "stream", b, craft(t, key(), b, [][]byte{one}, []bool{false}), nil, false)
	add("empty last chunk after a full one", "stream", b, craft(t, key(), b, [][]byte{make([]byte, ChunkSize), {}}, []bool{false, true}), nil, false)
	add("counter starting at 1", "stream", b, craftFrom(t, key(), b, 1, [][]byte{one}, []bool{true}), nil, false)
	return vs
}

// craft seals chunks with the given last flags and counters from 0, bypassing EncryptStream.
func craft(t *testing.T, k *RecordKey, b Binding, chunks [][]byte, last []bool) []byte {
	return craftFrom(t, k, b, 0, chunks, last)
}

func craftFrom(t *testing.T, k *RecordKey, b Binding, counter int64, chunks [][]byte, last []bool) []byte {
	t.Helper()
	header := encrypt(t, k, fixedRand(5), b, nil)[:HeaderSize]
	aead, _, err := k.streamKey(b, header[5:5+saltSize])
	if err != nil {
		t.Fatal(err)
	}
	out := bytes.Clone(header)
	var nonce [streamNonces]byte
	for i, c := range chunks {
		chunkNonce(&nonce, counter+int64(i), last[i])
		out = aead.Seal(out, nonce[:], c, nil)
	}
	return out
}

func sha256Of(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

func TestVectors(t *testing.T) {
	if *update {
		b, err := json.MarshalIndent(generateVectors(t), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 10 {
		t.Fatalf("only %d vectors", len(vs))
	}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			dk, _ := hex.DecodeString(v.DataKey)
			ct, _ := base64.StdEncoding.DecodeString(v.Ciphertext)
			k, err := NewRecordKey(dk)
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			if v.Kind == "field" {
				got, err = k.OpenField(v.Binding, ct)
			} else {
				got, err = decrypt(k, v.Binding, ct, 0, -1)
			}
			switch v.Expect {
			case "ok":
				if err != nil || hex.EncodeToString(sha256Of(got)) != v.PlaintextSHA256 {
					t.Fatalf("want plaintext %s, got %d bytes, %v", v.PlaintextSHA256, len(got), err)
				}
			case "authentication failure":
				if err != ErrAuthentication {
					t.Fatalf("err = %v, want ErrAuthentication", err)
				}
			default:
				t.Fatalf("unknown expectation %q", v.Expect)
			}
		})
	}
	// The checked-in file is what the generator makes: the format has not drifted.
	if !*update {
		want, _ := json.MarshalIndent(generateVectors(t), "", "  ")
		if !bytes.Equal(append(want, '\n'), raw) {
			t.Fatal("testdata/vectors.json differs from what the generator makes: the format changed; regenerate with -update only if that was intended")
		}
	}
}
