package records

import (
	"errors"
	"io"
)

// prefetch reads src in a goroutine of its own, up to depth buffers of size bytes ahead of the
// reader, so that whatever produces src's bytes (the network on a download, encryption on an
// upload) runs while the consumer (decryption, the upload) works on earlier bytes. Memory is
// bounded by depth×size. Close stops the goroutine once src's pending Read returns, which
// closing src's underlying connection forces.
type prefetcher struct {
	full chan []byte // filled buffers, in order; closed after the last, with err set
	free chan []byte // buffers the reader has finished with
	stop chan struct{}
	cur  []byte // unread part of the buffer being read
	buf  []byte // that buffer whole, to hand back
	err  error  // src's first error (io.EOF at its end); read only after full is closed
}

func prefetch(src io.Reader, size, depth int) *prefetcher {
	p := &prefetcher{full: make(chan []byte, depth), free: make(chan []byte, depth), stop: make(chan struct{})}
	for range depth {
		p.free <- make([]byte, size)
	}
	go p.fill(src)
	return p
}

func (p *prefetcher) fill(src io.Reader) {
	defer close(p.full)
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.stop:
			return
		}
		n, err := io.ReadFull(src, buf[:cap(buf)])
		if n > 0 {
			select {
			case p.full <- buf[:n]:
			case <-p.stop:
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF
			}
			p.err = err
			return
		}
	}
}

func (p *prefetcher) Read(b []byte) (int, error) {
	for len(p.cur) == 0 {
		if p.buf != nil {
			p.free <- p.buf[:cap(p.buf)]
			p.buf = nil
		}
		buf, ok := <-p.full
		if !ok {
			if p.err == nil { // stopped by Close
				return 0, io.ErrClosedPipe
			}
			return 0, p.err
		}
		p.cur, p.buf = buf, buf
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// Close stops the prefetching goroutine.
func (p *prefetcher) Close() error {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	return nil
}
