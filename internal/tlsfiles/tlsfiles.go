// Package tlsfiles serves the listener's TLS certificate from its files and picks up a renewed
// one without a restart: an operator (or cert-manager, or certbot) replaces the files, and the
// next handshake after the check interval uses the new pair. A pair that does not load (half
// written, mismatched) leaves the one in use, and is tried again at the next check.
package tlsfiles

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// CheckEvery is how often the files are looked at for a change, at most.
const CheckEvery = 10 * time.Second

// Pair is a certificate and key kept from their files.
type Pair struct {
	certFile, keyFile string
	logger            *slog.Logger
	now               func() time.Time

	mu       sync.Mutex
	cert     *tls.Certificate
	modified time.Time // of the files the pair in use was loaded from (the later of the two)
	checked  time.Time
}

// Load reads the pair from certFile and keyFile; now is the clock of the checks (time.Now
// when nil).
func Load(certFile, keyFile string, logger *slog.Logger, now func() time.Time) (*Pair, error) {
	if now == nil {
		now = time.Now
	}
	p := &Pair{certFile: certFile, keyFile: keyFile, logger: logger, now: now}
	cert, modified, err := p.read()
	if err != nil {
		return nil, err
	}
	p.cert, p.modified, p.checked = cert, modified, now()
	return p, nil
}

// GetCertificate is tls.Config's: the pair in use, reloaded first when its files changed.
func (p *Pair) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := p.now(); now.Sub(p.checked) >= CheckEvery {
		p.checked = now
		if modified, err := p.lastModified(); err == nil && modified.After(p.modified) {
			cert, modified, err := p.read()
			if err != nil {
				p.logger.Warn("TLS certificate not reloaded: the one in use stays", "err", err)
			} else {
				p.cert, p.modified = cert, modified
				p.logger.Info("TLS certificate reloaded", "not_after", cert.Leaf.NotAfter)
			}
		}
	}
	return p.cert, nil
}

// TLSConfig is a server configuration serving the pair: TLS 1.2 at least.
func (p *Pair) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: p.GetCertificate}
}

func (p *Pair) read() (*tls.Certificate, time.Time, error) {
	modified, err := p.lastModified()
	if err != nil {
		return nil, time.Time{}, err
	}
	cert, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("tls: %w", err)
	}
	return &cert, modified, nil
}

func (p *Pair) lastModified() (time.Time, error) {
	var latest time.Time
	for _, f := range []string{p.certFile, p.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return time.Time{}, fmt.Errorf("tls: %w", err)
		}
		if fi.ModTime().After(latest) {
			latest = fi.ModTime()
		}
	}
	return latest, nil
}
