package crypto

import (
	"bytes"
	"crypto/rand"
	"testing"
)

// Seeds use fixed randomness: fuzz workers are separate processes that must build the same
// genuine inputs.
//
// FuzzOpenStream feeds arbitrary bytes to the stream parser as a whole encrypted stream. Only
// the genuine stream may open; everything else must fail with ErrAuthentication, not panic.
func FuzzOpenStream(f *testing.F) {
	k := testKey(f, 1)
	genuine := encrypt(f, k, fixedRand(3), place, plaintextOf(ChunkSize+3))
	f.Add(genuine)
	f.Add(genuine[:HeaderSize])
	f.Add(encrypt(f, k, rand.Reader, place, nil))
	f.Add([]byte("RVST\x01"))
	f.Fuzz(func(t *testing.T, enc []byte) {
		got, err := decrypt(k, place, enc, 0, -1)
		if bytes.Equal(enc, genuine) {
			if err != nil {
				t.Fatalf("genuine stream failed: %v", err)
			}
			return
		}
		if err == nil && len(enc) != HeaderSize+tagSize { // an empty stream of this key could be found only by a key holder
			t.Fatalf("forged stream of %d bytes opened to %d bytes", len(enc), len(got))
		}
	})
}

// FuzzOpenField feeds arbitrary bytes to the field parser.
func FuzzOpenField(f *testing.F) {
	k := testKey(f, 1)
	genuine, err := k.SealField(fixedRand(3), place, []byte("mental status: alert, oriented"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(genuine)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, sealed []byte) {
		_, err := k.OpenField(place, sealed)
		if (err == nil) != bytes.Equal(sealed, genuine) {
			t.Fatalf("OpenField(%x) = %v", sealed, err)
		}
	})
}
