// Package cryptotest holds test helpers for the envelope format that more than one package's
// tests use: the ways to damage an encrypted stream that the format must detect. It is pure.
//
// It does not import package crypto, whose own tests use it; its copies of the stream layout
// constants are checked against crypto's by this package's test.
package cryptotest

import (
	"bytes"
	"fmt"
)

// Mutation is one way to damage an encrypted stream.
type Mutation struct {
	Name  string
	Apply func(stream []byte) []byte // returns a damaged copy
}

// The stream layout of docs/FORMAT.md.
const (
	headerSize  = 69
	chunkSize   = 64 << 10
	tagSize     = 16
	sealedChunk = chunkSize + tagSize
)

func chunkAt(i int) int { return headerSize + i*sealedChunk }

// StreamMutations returns every damage the format must detect, for a stream of three chunks
// (two full, one part) and the header of another stream of the same key and place: every
// header byte flipped; bytes and tags of each chunk flipped; truncation at and around each
// chunk boundary and inside the header; chunks swapped, duplicated and dropped; trailing data;
// and the other stream's header put in front.
func StreamMutations(stream, otherHeader []byte) []Mutation {
	var ms []Mutation
	flip := func(at int) func([]byte) []byte {
		return func(e []byte) []byte { e = bytes.Clone(e); e[at] ^= 0x80; return e }
	}
	truncate := func(n int) func([]byte) []byte {
		return func(e []byte) []byte { return bytes.Clone(e[:n]) }
	}
	for i := 0; i < headerSize; i++ {
		ms = append(ms, Mutation{fmt.Sprintf("header byte %d flipped", i), flip(i)})
	}
	for c := 0; c < 3; c++ {
		for _, at := range []int{0, 1, 500, chunkSize - 1} {
			if p := chunkAt(c) + at; p < len(stream)-tagSize {
				ms = append(ms, Mutation{fmt.Sprintf("chunk %d byte %d flipped", c, at), flip(p)})
			}
		}
		end := min(chunkAt(c+1), len(stream))
		ms = append(ms, Mutation{fmt.Sprintf("chunk %d tag flipped", c), flip(end - 1)})
	}
	for _, b := range []int{chunkAt(1), chunkAt(2), len(stream)} {
		for _, d := range []int{-tagSize - 1, -tagSize, -1, 1, tagSize, tagSize + 1} {
			if n := b + d; n >= 0 && n < len(stream) {
				ms = append(ms, Mutation{fmt.Sprintf("truncated to %d", n), truncate(n)})
			}
		}
	}
	for _, n := range []int{0, 1, headerSize - 1, headerSize, headerSize + 1} {
		ms = append(ms, Mutation{fmt.Sprintf("truncated to %d", n), truncate(n)})
	}
	return append(ms,
		Mutation{"chunks 0 and 1 swapped", func(e []byte) []byte {
			out := bytes.Clone(e[:headerSize])
			out = append(out, e[chunkAt(1):chunkAt(2)]...)
			out = append(out, e[chunkAt(0):chunkAt(1)]...)
			return append(out, e[chunkAt(2):]...)
		}},
		Mutation{"chunk 0 duplicated", func(e []byte) []byte {
			out := bytes.Clone(e[:chunkAt(1)])
			out = append(out, e[chunkAt(0):chunkAt(1)]...)
			return append(out, e[chunkAt(1):]...)
		}},
		Mutation{"chunk 1 dropped", func(e []byte) []byte {
			return append(bytes.Clone(e[:chunkAt(1)]), e[chunkAt(2):]...)
		}},
		Mutation{"last chunk dropped", truncate(chunkAt(2))},
		Mutation{"one trailing byte", func(e []byte) []byte { return append(bytes.Clone(e), 0) }},
		Mutation{"a trailing tag's worth", func(e []byte) []byte { return append(bytes.Clone(e), make([]byte, tagSize)...) }},
		Mutation{"trailing full chunk", func(e []byte) []byte { return append(bytes.Clone(e), e[chunkAt(0):chunkAt(1)]...) }},
		Mutation{"header of another stream", func(e []byte) []byte {
			return append(bytes.Clone(otherHeader), e[headerSize:]...)
		}},
	)
}
