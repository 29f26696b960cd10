package http

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"
)

// hstsValue asks browsers to use only HTTPS for two years, the value
// browsers' preload lists expect.
const hstsValue = "max-age=63072000; includeSubDomains"

// certReloadInterval is how often a served certificate's files are checked
// for a renewal.
const certReloadInterval = time.Minute

// TLSConfig returns a server TLS configuration (TLS 1.2 and later, Go's
// cipher suites) serving the certificate and key in the PEM files certFile
// and keyFile. The files are read now, so that a bad pair fails at start,
// and read again when they change (a renewed certificate is served without
// a restart).
func TLSConfig(certFile, keyFile string) (*tls.Config, error) {
	l := &certLoader{certFile: certFile, keyFile: keyFile, now: time.Now}
	if err := l.load(); err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: l.getCertificate}, nil
}

// certLoader holds the served certificate and reloads it when its files'
// modification times change.
type certLoader struct {
	certFile, keyFile string
	now               func() time.Time

	mu        sync.Mutex
	cert      *tls.Certificate
	certMod   time.Time
	keyMod    time.Time
	checkedAt time.Time
}

func (l *certLoader) load() error {
	certInfo, err := os.Stat(l.certFile)
	if err != nil {
		return fmt.Errorf("tls certificate: %w", err)
	}
	keyInfo, err := os.Stat(l.keyFile)
	if err != nil {
		return fmt.Errorf("tls key: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(l.certFile, l.keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate and key: %w", err)
	}
	l.cert, l.certMod, l.keyMod = &cert, certInfo.ModTime(), keyInfo.ModTime()
	return nil
}

func (l *certLoader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := l.now(); now.Sub(l.checkedAt) >= certReloadInterval {
		l.checkedAt = now
		certInfo, err1 := os.Stat(l.certFile)
		keyInfo, err2 := os.Stat(l.keyFile)
		if err1 == nil && err2 == nil && (!certInfo.ModTime().Equal(l.certMod) || !keyInfo.ModTime().Equal(l.keyMod)) {
			// A pair caught halfway through its renewal fails to load:
			// keep serving the old one and try again at the next check.
			_ = l.load()
		}
	}
	return l.cert, nil
}

// secureHeaders sets Strict-Transport-Security on responses to requests that
// came over HTTPS: to this server, or to a proxy in front of it when the
// server trusts the proxy's X-Forwarded-Proto.
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.overTLS(r) {
			w.Header().Set("Strict-Transport-Security", hstsValue)
		}
		next.ServeHTTP(w, r)
	})
}

// overTLS reports whether the client reached Huella over HTTPS.
func (s *Server) overTLS(r *http.Request) bool {
	return r.TLS != nil || (s.TrustProxy && r.Header.Get("X-Forwarded-Proto") == "https")
}
