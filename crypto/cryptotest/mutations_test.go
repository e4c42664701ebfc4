package cryptotest

import (
	"testing"

	"github.com/recordvault/recordvault/crypto"
)

func TestLayoutMatchesCrypto(t *testing.T) {
	if headerSize != crypto.HeaderSize || chunkSize != crypto.ChunkSize {
		t.Fatalf("cryptotest layout (%d, %d) differs from crypto's (%d, %d)", headerSize, chunkSize, crypto.HeaderSize, crypto.ChunkSize)
	}
	if got, _ := crypto.EncryptedSize(chunkSize); got != headerSize+sealedChunk {
		t.Fatalf("sealed chunk size: crypto says %d", got-headerSize)
	}
}
