package crypto

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"testing"

	"github.com/recordvault/recordvault/crypto/cryptotest"
)

// fixedRand is deterministic randomness for tests and vectors; never for production.
func fixedRand(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return mrand.NewChaCha8(s)
}

func testKey(t testing.TB, seed byte) *RecordKey {
	t.Helper()
	dk := make([]byte, DataKeySize)
	io.ReadFull(fixedRand(seed), dk)
	k, err := NewRecordKey(dk)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var place = Binding{Clinic: "c0ffee", Category: "progress_note", Record: "r1", Name: "plan"}

func TestFieldRoundTripAndBinding(t *testing.T) {
	k := testKey(t, 1)
	plaintext := []byte("Client reports improved sleep; continue CBT-I.")
	sealed, err := k.SealField(rand.Reader, place, plaintext)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != len(plaintext)+fieldOverhead || bytes.Contains(sealed, plaintext[:8]) {
		t.Fatalf("sealed field has length %d or shows plaintext", len(sealed))
	}
	got, err := k.OpenField(place, sealed)
	if err != nil || !bytes.Equal(got, plaintext) {
		t.Fatalf("OpenField = %q, %v", got, err)
	}
	// Moving the field anywhere else fails: each component of its binding matters.
	for name, b := range map[string]Binding{
		"other clinic":   {"c0ffef", place.Category, place.Record, place.Name},
		"other category": {place.Clinic, "psychotherapy_note", place.Record, place.Name},
		"other record":   {place.Clinic, place.Category, "r2", place.Name},
		"other field":    {place.Clinic, place.Category, place.Record, "progress"},
		// Length prefixes keep components from sliding into each other.
		"shifted": {place.Clinic + "p", "rogress_note", place.Record, place.Name},
	} {
		if _, err := k.OpenField(b, sealed); err != ErrAuthentication {
			t.Errorf("%s: err = %v, want ErrAuthentication", name, err)
		}
	}
	if _, err := testKey(t, 2).OpenField(place, sealed); err != ErrAuthentication {
		t.Errorf("other key: err = %v", err)
	}
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		if got, err := k.OpenField(place, bad); err != ErrAuthentication || got != nil {
			t.Fatalf("bit flip at %d: %q, %v", i, got, err)
		}
	}
	for _, n := range []int{0, 1, fieldOverhead - 1, len(sealed) - 1} {
		if _, err := k.OpenField(place, sealed[:n]); err != ErrAuthentication {
			t.Errorf("truncated to %d: err = %v", n, err)
		}
	}
}

func TestNewRecordKeyAndDestroy(t *testing.T) {
	if _, err := NewRecordKey(make([]byte, 16)); err == nil {
		t.Fatal("16-byte data key accepted")
	}
	dk := bytes.Repeat([]byte{0xAB}, DataKeySize)
	k, err := NewRecordKey(dk)
	if err != nil {
		t.Fatal(err)
	}
	k.Destroy()
	if !bytes.Equal(dk, make([]byte, DataKeySize)) {
		t.Fatal("Destroy left the data key in memory")
	}
}

// encrypt returns the whole encrypted stream of plaintext.
func encrypt(t testing.TB, k *RecordKey, rnd io.Reader, b Binding, plaintext []byte) []byte {
	t.Helper()
	r, size, err := k.EncryptStream(rnd, b, bytes.NewReader(plaintext), int64(len(plaintext)))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(out)) != size {
		t.Fatalf("stream is %d bytes, EncryptedSize said %d", len(out), size)
	}
	return out
}

// decrypt opens enc and reads plaintext [off, off+n) through a Range-limited source.
func decrypt(k *RecordKey, b Binding, enc []byte, off, n int64) ([]byte, error) {
	if len(enc) < HeaderSize {
		return nil, ErrAuthentication
	}
	s, err := k.OpenStream(b, enc[:HeaderSize], int64(len(enc)))
	if err != nil {
		return nil, err
	}
	if n < 0 {
		n = s.Size() - off
	}
	start, length, err := s.Range(off, n)
	if err != nil {
		return nil, err
	}
	// Read and WriteTo (io.Copy's way) must release the same bytes and fail the same way.
	read, err := s.NewReader(bytes.NewReader(enc[start:start+length]), off, n)
	if err != nil {
		return nil, err
	}
	written, _ := s.NewReader(bytes.NewReader(enc[start:start+length]), off, n)
	got, err := io.ReadAll(read)
	var out bytes.Buffer
	if _, writeErr := written.(io.WriterTo).WriteTo(&out); writeErr != err || !bytes.Equal(out.Bytes(), got) {
		return nil, fmt.Errorf("WriteTo gave %d bytes and %v; Read %d bytes and %v", out.Len(), writeErr, len(got), err)
	}
	return got, err
}

func plaintextOf(n int) []byte {
	p := make([]byte, n)
	io.ReadFull(fixedRand(9), p)
	return p
}

var boundarySizes = []int{0, 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 2 * ChunkSize, 3*ChunkSize + 5}

func TestStreamRoundTripAndRanges(t *testing.T) {
	k := testKey(t, 1)
	for _, size := range boundarySizes {
		plaintext := plaintextOf(size)
		enc := encrypt(t, k, rand.Reader, place, plaintext)
		got, err := decrypt(k, place, enc, 0, -1)
		if err != nil || !bytes.Equal(got, plaintext) {
			t.Fatalf("size %d: whole read: %d bytes, %v", size, len(got), err)
		}
		offsets := []int{0, 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, size / 2, size - 1, size}
		for _, off := range offsets {
			for _, n := range []int{0, 1, 100, ChunkSize, ChunkSize + 2, size} {
				if off < 0 || off > size || n > size-off {
					continue
				}
				got, err := decrypt(k, place, enc, int64(off), int64(n))
				if err != nil || !bytes.Equal(got, plaintext[off:off+n]) {
					t.Fatalf("size %d range %d+%d: %d bytes, %v", size, off, n, len(got), err)
				}
			}
		}
	}
}

// A range fetches only the chunks that cover it.
func TestRangeFetchesCoveringChunksOnly(t *testing.T) {
	k := testKey(t, 1)
	enc := encrypt(t, k, rand.Reader, place, plaintextOf(5*ChunkSize))
	s, err := k.OpenStream(place, enc[:HeaderSize], int64(len(enc)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ off, n, start, length int64 }{
		{0, 1, HeaderSize, sealedChunk},
		{ChunkSize, ChunkSize, HeaderSize + sealedChunk, sealedChunk},
		{ChunkSize - 1, 2, HeaderSize, 2 * sealedChunk},
		{4*ChunkSize + 10, 5, HeaderSize + 4*sealedChunk, sealedChunk},
	} {
		start, length, err := s.Range(tc.off, tc.n)
		if err != nil || start != tc.start || length != tc.length {
			t.Errorf("Range(%d, %d) = %d, %d, %v; want %d, %d", tc.off, tc.n, start, length, err, tc.start, tc.length)
		}
	}
	if _, _, err := s.Range(5*ChunkSize, 1); err == nil {
		t.Error("range past the end accepted")
	}
}

// plaintextSize inverts EncryptedSize exactly, and refuses every size no stream can have.
func TestSizesInvert(t *testing.T) {
	valid := map[int64]int64{}
	for n := int64(0); n <= 3*ChunkSize+1; n++ {
		e, err := EncryptedSize(n)
		if err != nil {
			t.Fatal(err)
		}
		valid[e] = n
	}
	maxEnc, _ := EncryptedSize(3*ChunkSize + 1)
	for e := int64(0); e <= maxEnc; e++ {
		n, ok := plaintextSize(e)
		want, isValid := valid[e]
		if ok != isValid || (ok && n != want) {
			t.Fatalf("plaintextSize(%d) = %d, %v; want %d, %v", e, n, ok, want, isValid)
		}
	}
	if _, err := EncryptedSize(-1); err == nil {
		t.Fatal("negative size accepted")
	}
}

func TestEncryptRefusesWrongLength(t *testing.T) {
	k := testKey(t, 1)
	for _, tc := range []struct{ actual, declared int }{{10, 11}, {11, 10}, {ChunkSize, ChunkSize + 1}, {ChunkSize + 1, ChunkSize}, {0, 1}, {1, 0}} {
		r, _, err := k.EncryptStream(rand.Reader, place, bytes.NewReader(plaintextOf(tc.actual)), int64(tc.declared))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(r); err == nil {
			t.Errorf("%d bytes declared as %d: no error", tc.actual, tc.declared)
		}
	}
}

func TestStreamTamperingFails(t *testing.T) {
	k := testKey(t, 1)
	plaintext := plaintextOf(2*ChunkSize + 1000)
	enc := encrypt(t, k, rand.Reader, place, plaintext)
	ms := cryptotest.StreamMutations(enc, encrypt(t, k, rand.Reader, place, plaintext)[:HeaderSize])
	if len(ms) < 100 {
		t.Fatalf("only %d mutations", len(ms))
	}
	for _, m := range ms {
		got, err := decrypt(k, place, m.Apply(enc), 0, -1)
		if !errors.Is(err, ErrAuthentication) {
			t.Errorf("%s: err = %v, want ErrAuthentication", m.Name, err)
		}
		// A reader may have released the chunks before the damage, and nothing else.
		if !bytes.HasPrefix(plaintext, got) || len(got)%ChunkSize != 0 {
			t.Errorf("%s: released %d bytes that are not whole genuine chunks", m.Name, len(got))
		}
	}
	t.Logf("%d stream mutations, all refused", len(ms))

	for name, b := range map[string]Binding{
		"other clinic": {"c0ffef", place.Category, place.Record, place.Name}, "other category": {place.Clinic, "evaluation", place.Record, place.Name},
		"other record": {place.Clinic, place.Category, "r2", place.Name}, "other blob": {place.Clinic, place.Category, place.Record, "other"},
	} {
		if _, err := decrypt(k, b, enc, 0, -1); err != ErrAuthentication {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := decrypt(testKey(t, 2), place, enc, 0, -1); err != ErrAuthentication {
		t.Errorf("other key: err = %v", err)
	}
}
