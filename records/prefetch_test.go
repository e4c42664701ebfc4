package records

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestPrefetchYieldsSourceExactly(t *testing.T) {
	src := make([]byte, 1000003)
	for i := range src {
		src[i] = byte(i * 31)
	}
	for _, size := range []int{1, 7, 4096, 1 << 20} {
		p := prefetch(iotest.HalfReader(bytes.NewReader(src)), size, 3)
		got, err := io.ReadAll(iotest.OneByteReader(io.LimitReader(p, 10)))
		if err != nil || !bytes.Equal(got, src[:10]) {
			t.Fatalf("size %d: first bytes %v, %v", size, got, err)
		}
		rest, err := io.ReadAll(p)
		if err != nil || !bytes.Equal(rest, src[10:]) {
			t.Fatalf("size %d: %d bytes, %v", size, len(rest), err)
		}
		p.Close()
	}
}

func TestPrefetchKeepsSourceError(t *testing.T) {
	boom := errors.New("connection reset")
	p := prefetch(io.MultiReader(bytes.NewReader([]byte("abc")), iotest.ErrReader(boom)), 2, 2)
	got, err := io.ReadAll(p)
	if string(got) != "abc" || !errors.Is(err, boom) {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := p.Read(make([]byte, 1)); !errors.Is(err, boom) {
		t.Fatalf("after the error: %v", err)
	}
}

func TestPrefetchClose(t *testing.T) {
	p := prefetch(bytes.NewReader(make([]byte, 1<<20)), 1024, 2)
	p.Close()
	p.Close() // twice is fine
	for {
		_, err := p.Read(make([]byte, 4096))
		if errors.Is(err, io.ErrClosedPipe) {
			return
		}
		if err != nil {
			t.Fatalf("read after close: %v", err)
		}
	}
}
