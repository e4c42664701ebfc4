package cli

import (
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// transferClient sends the command line's requests: connection and answer bounded, a body's
// transfer not (a large attachment takes as long as the line needs).
func transferClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
	}}
}

// progressOver is the size from which a transfer shows a progress bar.
const progressOver = 1 << 20

// progress returns a bar counting size bytes on stderr, labelled label, when stderr is a
// terminal and size is over progressOver; else a writer that discards (a log or a pipe gets
// no bar). finish ends the bar's line.
func (e *env) progress(size int64, label string) (w io.Writer, finish func()) {
	f, ok := e.stderr.(*os.File)
	if !ok || size <= progressOver || !term.IsTerminal(int(f.Fd())) {
		return io.Discard, func() {}
	}
	bar := progressbar.NewOptions64(size, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription(label),
		progressbar.OptionShowBytes(true), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowCount(), progressbar.OptionOnCompletion(func() { _, _ = io.WriteString(f, "\n") }))
	return bar, func() { _ = bar.Finish() }
}
