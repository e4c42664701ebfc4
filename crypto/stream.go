package crypto

import (
	"bytes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The stream format (docs/FORMAT.md): a header, then the plaintext in ChunkSize chunks, each
// sealed with AES-256-GCM under a per-object key; the nonce is an 88-bit big-endian chunk
// counter followed by a byte that is 1 on the last chunk and 0 on every other. Only the last
// chunk may be short, and it is empty only when the whole plaintext is.
//
//	header = magic "RVST" ‖ version (1) ‖ salt (32) ‖ commitment (32)
//	key ‖ commitment = HKDF-SHA256(data key, salt, "recordvault/v1/stream" ‖ binding, 64)
const (
	ChunkSize    = 64 << 10
	tagSize      = 16
	sealedChunk  = ChunkSize + tagSize
	saltSize     = 32
	commitSize   = 32
	HeaderSize   = 4 + 1 + saltSize + commitSize // magic, version, salt, commitment
	maxPlaintext = 1 << 50                       // 1 PiB: far below the 88-bit counter, and sizes stay in int64
	streamNonces = 12
)

const streamMagic = "RVST"

// EncryptedSize returns the exact size of the stream that encrypts plaintextSize bytes.
func EncryptedSize(plaintextSize int64) (int64, error) {
	if plaintextSize < 0 || plaintextSize > maxPlaintext {
		return 0, fmt.Errorf("recordvault/crypto: plaintext size %d out of range", plaintextSize)
	}
	return HeaderSize + plaintextSize + chunkCount(plaintextSize)*tagSize, nil
}

func chunkCount(plaintextSize int64) int64 {
	if plaintextSize == 0 {
		return 1
	}
	return (plaintextSize + ChunkSize - 1) / ChunkSize
}

// plaintextSize inverts EncryptedSize; ok is false for a size no stream can have.
func plaintextSize(encryptedSize int64) (size int64, ok bool) {
	body := encryptedSize - HeaderSize
	if body < tagSize {
		return 0, false
	}
	full, rest := body/sealedChunk, body%sealedChunk
	switch {
	case rest == 0:
		return full * ChunkSize, true
	case rest < tagSize, rest == tagSize && full > 0: // a part chunk, or an empty last chunk after full ones
		return 0, false
	default:
		return full*ChunkSize + rest - tagSize, true
	}
}

// streamKey derives an attachment's AES-GCM key and key-commitment value.
func (k *RecordKey) streamKey(b Binding, salt []byte) (cipher.AEAD, []byte, error) {
	okm, err := hkdf.Key(sha256.New, k.dataKey, salt, string(b.encode("stream")), 32+commitSize)
	if err != nil {
		return nil, nil, err
	}
	defer clear(okm)
	aead, err := newGCM(okm[:32])
	if err != nil {
		return nil, nil, err
	}
	return aead, bytes.Clone(okm[32:]), nil
}

func chunkNonce(nonce *[streamNonces]byte, counter int64, last bool) {
	clear(nonce[:])
	binary.BigEndian.PutUint64(nonce[3:11], uint64(counter))
	if last {
		nonce[11] = 1
	}
}

// EncryptStream returns a reader of the encrypted form of exactly size bytes read from src,
// for the place b, and that form's exact length (for a PutObject that must not buffer). The
// reader fails if src yields fewer or more than size bytes. It holds one chunk in memory.
func (k *RecordKey) EncryptStream(rand io.Reader, b Binding, src io.Reader, size int64) (io.Reader, int64, error) {
	if err := b.valid(); err != nil {
		return nil, 0, err
	}
	total, err := EncryptedSize(size)
	if err != nil {
		return nil, 0, err
	}
	header := make([]byte, HeaderSize)
	copy(header, streamMagic)
	header[len(streamMagic)] = formatVersion
	salt := header[len(streamMagic)+1 : len(streamMagic)+1+saltSize]
	if _, err := io.ReadFull(rand, salt); err != nil {
		return nil, 0, fmt.Errorf("recordvault/crypto: salt: %w", err)
	}
	aead, commitment, err := k.streamKey(b, salt)
	if err != nil {
		return nil, 0, err
	}
	copy(header[len(streamMagic)+1+saltSize:], commitment)
	r := &encryptReader{src: src, aead: aead, remaining: size, buf: make([]byte, sealedChunk)}
	r.out, r.next = header, r.sealNext
	return r, total, nil
}

// chunkReader is the io.Reader both directions share: it hands out out, and calls next for
// more; next's first error (io.EOF after the last chunk) is kept and returned from then on.
type chunkReader struct {
	out  []byte
	err  error
	next func() error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.err = r.next()
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// WriteTo hands each chunk to w as it comes, without the copy into a caller's buffer that Read
// makes; io.Copy prefers it. w sees a chunk's plaintext only after its tag verifies, as Read's
// caller does.
func (r *chunkReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(r.out) > 0 {
			n, err := w.Write(r.out)
			total += int64(n)
			r.out = r.out[n:]
			if err != nil {
				return total, err
			}
			continue
		}
		if r.err != nil {
			if r.err == io.EOF {
				return total, nil
			}
			return total, r.err
		}
		r.err = r.next()
	}
}

type encryptReader struct {
	chunkReader
	src       io.Reader
	aead      cipher.AEAD
	remaining int64 // plaintext bytes still to read from src
	counter   int64
	nonce     [streamNonces]byte
	buf       []byte
}

// sealNext reads and seals the next chunk into r.out; after the last chunk it returns io.EOF.
func (r *encryptReader) sealNext() error {
	n := min(ChunkSize, r.remaining)
	last := r.remaining <= ChunkSize
	chunk := r.buf[:n]
	if _, err := io.ReadFull(r.src, chunk); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return errors.New("recordvault/crypto: plaintext shorter than its declared size")
		}
		return fmt.Errorf("recordvault/crypto: reading plaintext: %w", err)
	}
	r.remaining -= n
	if last {
		var extra [1]byte
		switch _, err := io.ReadFull(r.src, extra[:]); {
		case err == nil:
			return errors.New("recordvault/crypto: plaintext longer than its declared size")
		case !errors.Is(err, io.EOF):
			return fmt.Errorf("recordvault/crypto: reading plaintext: %w", err)
		}
	}
	chunkNonce(&r.nonce, r.counter, last)
	r.out = r.aead.Seal(chunk[:0], r.nonce[:], chunk, nil)
	r.counter++
	if last {
		return io.EOF
	}
	return nil
}

// Stream is an attachment whose header has been checked: its key is committed to and derived,
// its size is known, and any byte range of its plaintext can be read.
type Stream struct {
	aead          cipher.AEAD
	size          int64 // plaintext
	encryptedSize int64
	chunks        int64
}

// OpenStream checks header (the first HeaderSize bytes of a stream of encryptedSize bytes)
// for the place b: the key commitment is compared in constant time before any chunk can be
// decrypted. Any failure is ErrAuthentication.
func (k *RecordKey) OpenStream(b Binding, header []byte, encryptedSize int64) (*Stream, error) {
	if b.valid() != nil || len(header) != HeaderSize || string(header[:len(streamMagic)]) != streamMagic ||
		header[len(streamMagic)] != formatVersion {
		return nil, ErrAuthentication
	}
	size, ok := plaintextSize(encryptedSize)
	if !ok {
		return nil, ErrAuthentication
	}
	saltAt := len(streamMagic) + 1
	aead, commitment, err := k.streamKey(b, header[saltAt:saltAt+saltSize])
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(commitment, header[saltAt+saltSize:]) != 1 {
		return nil, ErrAuthentication
	}
	return &Stream{aead: aead, size: size, encryptedSize: encryptedSize, chunks: chunkCount(size)}, nil
}

// Size is the plaintext size.
func (s *Stream) Size() int64 { return s.size }

// chunkSpan returns the chunks that hold plaintext [off, off+n). An empty range still covers
// one chunk, so that even an empty stream's only chunk is authenticated when read.
func (s *Stream) chunkSpan(off, n int64) (first, last int64) {
	first = min(off/ChunkSize, s.chunks-1)
	last = first
	if n > 0 {
		last = (off + n - 1) / ChunkSize
	}
	return first, last
}

// Range returns the byte range [start, start+length) of the stream that holds plaintext
// [off, off+n): whole chunks, so that each can be authenticated before it is returned.
func (s *Stream) Range(off, n int64) (start, length int64, err error) {
	if off < 0 || n < 0 || off > s.size || n > s.size-off {
		return 0, 0, fmt.Errorf("recordvault/crypto: range %d+%d outside a %d-byte plaintext", off, n, s.size)
	}
	first, last := s.chunkSpan(off, n)
	start = HeaderSize + first*sealedChunk
	end := min(HeaderSize+(last+1)*sealedChunk, s.encryptedSize)
	return start, end - start, nil
}

// NewReader returns a reader of plaintext [off, off+n). src must yield the stream's bytes from
// the start of Range(off, n). Each chunk's plaintext is released only after its tag verifies;
// a chunk that does not, or a src that ends early, fails the reader with ErrAuthentication.
func (s *Stream) NewReader(src io.Reader, off, n int64) (io.Reader, error) {
	if _, _, err := s.Range(off, n); err != nil {
		return nil, err
	}
	first, last := s.chunkSpan(off, n)
	r := &decryptReader{s: s, src: src, chunk: first, last: last, skip: off - first*ChunkSize,
		remaining: n, buf: make([]byte, sealedChunk)}
	r.next = r.openNext
	return r, nil
}

type decryptReader struct {
	chunkReader
	s           *Stream
	src         io.Reader
	chunk, last int64 // the next chunk to read, and the last of the range
	skip        int64 // plaintext bytes to drop from the first chunk
	remaining   int64 // plaintext bytes still to return
	nonce       [streamNonces]byte
	buf         []byte
}

// openNext reads, authenticates and decrypts the next chunk into r.out; after the last chunk
// of the range it returns io.EOF.
func (r *decryptReader) openNext() error {
	isLast := r.chunk == r.s.chunks-1
	sealed := r.buf[:sealedChunk]
	if isLast {
		sealed = r.buf[:r.s.size-r.chunk*ChunkSize+tagSize]
	}
	if _, err := io.ReadFull(r.src, sealed); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return ErrAuthentication // truncated
		}
		return fmt.Errorf("recordvault/crypto: reading stream: %w", err)
	}
	chunkNonce(&r.nonce, r.chunk, isLast)
	plain, err := r.s.aead.Open(sealed[:0], r.nonce[:], sealed, nil)
	if err != nil {
		return ErrAuthentication
	}
	plain = plain[r.skip:]
	r.skip = 0
	plain = plain[:min(int64(len(plain)), r.remaining)]
	r.remaining -= int64(len(plain))
	r.out = plain
	r.chunk++
	if r.chunk > r.last {
		return io.EOF
	}
	return nil
}
