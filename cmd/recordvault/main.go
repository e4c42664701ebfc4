// Command recordvault runs the recordvault HTTP service. It only wires: configuration comes
// from the environment (secrets never from flags, which other users can read in ps), and
// everything it starts is defined in the packages it imports.
package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/auth"
	"github.com/recordvault/recordvault/clinic"
	"github.com/recordvault/recordvault/config"
	"github.com/recordvault/recordvault/disclosure"
	"github.com/recordvault/recordvault/handlers"
	"github.com/recordvault/recordvault/internal/tlsfiles"
	"github.com/recordvault/recordvault/metrics"
	"github.com/recordvault/recordvault/notify"
	"github.com/recordvault/recordvault/otp"
	"github.com/recordvault/recordvault/records"
	"github.com/recordvault/recordvault/storage"
	"github.com/recordvault/recordvault/tokens"
	"github.com/recordvault/recordvault/tracing"
	"github.com/recordvault/recordvault/vault"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "recordvault: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	settings, err := config.Load(getenv, os.ReadFile)
	if err != nil {
		return fmt.Errorf("configuration (docs/CONFIGURATION.md):\n%w", err)
	}
	getenv = settings.Get // every setting below is read checked, its default applied
	flags := flag.NewFlagSet(args[0], flag.ContinueOnError)
	listen := flags.String("listen", getenv("RECORDVAULT_LISTEN"), "address to serve HTTP on")
	if err := flags.Parse(args[1:]); err != nil {
		return err
	}
	logger := newLogger(stdout, getenv("RECORDVAULT_LOG_FORMAT"), getenv("RECORDVAULT_LOG_LEVEL"))

	vaultCfg := vault.Config{
		Addr:         getenv("VAULT_ADDR"),
		Token:        getenv("VAULT_TOKEN"),
		TransitMount: getenv("RECORDVAULT_TRANSIT_MOUNT"),
	}
	if roleID := getenv("VAULT_ROLE_ID"); roleID != "" {
		vaultCfg.AppRole = &vault.AppRole{Mount: getenv("VAULT_APPROLE_MOUNT"), RoleID: roleID, SecretID: getenv("VAULT_SECRET_ID"),
			Wrapped: getenv("VAULT_SECRET_ID_WRAPPED") == "true"}
	}
	if role := getenv("VAULT_KUBERNETES_ROLE"); role != "" {
		vaultCfg.Kubernetes = &vault.Kubernetes{Mount: getenv("VAULT_KUBERNETES_MOUNT"), Role: role, TokenFile: getenv("VAULT_KUBERNETES_TOKEN_FILE")}
	}
	measure := metrics.New()
	var tracer trace.Tracer
	if endpoint := getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); endpoint != "" {
		var stop func(context.Context) error
		if tracer, stop, err = tracing.Start(ctx, endpoint); err != nil {
			return err
		}
		defer func() {
			flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = stop(flush)
		}()
	}
	vaultCfg.Instrument = instrument(measure, tracer, "vault")
	vc, err := vault.New(vaultCfg)
	if err != nil {
		return err
	}
	if err := vc.Start(ctx, logger); err != nil {
		return err
	}
	if !settings.Development() {
		if root, err := vc.IsRoot(ctx); err != nil {
			return err
		} else if root {
			return fmt.Errorf("VAULT_TOKEN is a root token: production signs in with AppRole (VAULT_ROLE_ID, VAULT_SECRET_ID) or Kubernetes (VAULT_KUBERNETES_ROLE); %s=true only for a development stack", config.Development)
		}
	}
	storeCfg, err := storage.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	storeCfg.Instrument = instrument(measure, tracer, "s3")
	store, err := storage.New(storeCfg)
	if err != nil {
		return err
	}
	if err := refuseUnfitStorage(ctx, store, logger); err != nil {
		return err
	}

	verifier, err := auth.NewVerifier(ctx, auth.Config{
		Issuer:   getenv("RECORDVAULT_OIDC_ISSUER"),
		Audience: getenv("RECORDVAULT_OIDC_AUDIENCE"),
		JWKSURL:  getenv("RECORDVAULT_OIDC_JWKS_URL"),
	})
	if err != nil {
		return err
	}
	auditFile, err := os.OpenFile(getenv("RECORDVAULT_AUDIT_LOG"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	defer auditFile.Close()
	recs := records.New(vc, records.NewBucket(store), nil)
	people := clinic.New(vc, clinic.NewBucket(store), nil)
	disclosures := disclosure.New(vc, vc, disclosure.NewBucket(store), nil)
	ttl, err := time.ParseDuration(getenv("RECORDVAULT_DOWNLOAD_TTL"))
	if err != nil {
		return fmt.Errorf("RECORDVAULT_DOWNLOAD_TTL: %w", err)
	}
	downloads, err := tokens.New(vc, ttl, nil)
	if err != nil {
		return err
	}
	trail := audit.NewChain(audit.NewBucket(store), vc, logger, nil)
	trail.ObserveCommits(measure.AuditCommit)
	measure.AuditQueue(trail.Queued)
	for _, id := range strings.FieldsFunc(getenv("RECORDVAULT_CLINICS"), func(r rune) bool { return r == ',' || r == ' ' }) {
		if err := vc.ProvisionClinic(ctx, id); err != nil {
			return err
		}
	}
	codes := otp.New(otp.NewBucket(store), func(ctx context.Context, clinicID string, input []byte) ([]byte, error) {
		return vc.HMAC(ctx, clinic.IndexKeyName(clinicID), input)
	}, nil)
	// The plain copy first: an event the chain cannot take (Vault or the bucket down) fails
	// its request, but the attempt stays on record.
	notes, err := notifier(getenv, logger)
	if err != nil {
		return err
	}
	svc, err := app.New(app.Deps{Records: recs, Clinic: people, Disclosures: disclosures, Tokens: downloads, Codes: codes,
		Notifier: notes, Audit: audit.Tee{audit.NewJSONLines(auditFile), trail}, Trail: trail,
		Jurisdiction: getenv("RECORDVAULT_JURISDICTION")})
	if err != nil {
		return err
	}
	var stopping atomic.Bool // on SIGTERM: not ready, so that load balancers route around it
	checks := []handlers.ReadinessCheck{{Name: "vault", Ready: vc.Ready}, {Name: "storage", Ready: store.Ready},
		{Name: "shutdown", Ready: func(context.Context) error {
			if stopping.Load() {
				return errors.New("shutting down")
			}
			return nil
		}}}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	scheme := "http"
	var certs *tlsfiles.Pair
	if certFile := getenv("RECORDVAULT_TLS_CERT_FILE"); certFile != "" {
		if certs, err = tlsfiles.Load(certFile, getenv("RECORDVAULT_TLS_KEY_FILE"), logger, nil); err != nil {
			return fmt.Errorf("RECORDVAULT_TLS_CERT_FILE: %w", err)
		}
		scheme = "https"
	}
	portalCfg, err := portalConfig(getenv, scheme+"://"+ln.Addr().String())
	if err != nil {
		return err
	}
	portal, err := handlers.NewPortal(portalCfg, logger, verifier, svc)
	if err != nil {
		return err
	}
	handler := handlers.NewServer(logger, checks, verifier, svc, handlers.WithPortal(portal), handlers.WithObserver(measure), handlers.WithTracer(tracer))
	// The operator listener: readiness with each check's reason, and the Prometheus metrics
	// (/metrics), for the operators' network only; the public /readyz says ready or not.
	if addr := getenv("RECORDVAULT_OPERATOR_LISTEN"); addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("RECORDVAULT_OPERATOR_LISTEN: %w", err)
		}
		operator := &http.Server{Handler: handlers.NewOperatorServer(logger, checks, measure.Handler()), ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
		logger.Info("operator listener", "url", "http://"+ln.Addr().String())
		go operator.Serve(ln)
		defer operator.Close()
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20, // handlers answers over 16 KiB with a problem; this is the hard stop
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if certs != nil {
		srv.TLSConfig = certs.TLSConfig()
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	logger.Info("serving", "url", scheme+"://"+ln.Addr().String(), "portal", portalCfg.PublicURL+"/portal/")

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Graceful: answer not ready for the delay (load balancers stop sending), then stop taking
	// requests and give those in flight (downloads among them) the grace to finish.
	stopping.Store(true)
	delay, _ := time.ParseDuration(getenv("RECORDVAULT_SHUTDOWN_DELAY")) // config checked both
	grace, _ := time.ParseDuration(getenv("RECORDVAULT_SHUTDOWN_GRACE"))
	logger.Info("stopping", "not_ready_for", delay.String(), "grace", grace.String())
	time.Sleep(delay)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// instrument wraps a dependency's transport so that its calls are counted (metrics) and,
// with a tracer, traced.
func instrument(m *metrics.Metrics, tracer trace.Tracer, dependency string) func(http.RoundTripper) http.RoundTripper {
	counted := m.Dependency(dependency)
	if tracer == nil {
		return counted
	}
	traced := tracing.Transport(tracer, dependency)
	return func(t http.RoundTripper) http.RoundTripper { return counted(traced(t)) }
}

// refuseUnfitStorage stops the start on S3 storage that ignores conditional writes (every
// guarantee of single use and of the audit chain rests on them): "any S3" means any that
// honours them. Storage that does not answer now is only logged: readiness reports it, and
// the service serves once it answers.
func refuseUnfitStorage(ctx context.Context, store interface{ Ready(context.Context) error }, logger *slog.Logger) error {
	err := store.Ready(ctx)
	switch {
	case errors.Is(err, storage.ErrNoConditionalWrites):
		return fmt.Errorf("RECORDVAULT_S3_ENDPOINT: %w; use S3 storage that honours them", err)
	case err != nil:
		logger.Warn("storage not ready at start", "err", err)
	}
	return nil
}

// newLogger logs to w as format (json or text) from level on, each line of a request with
// its id.
func newLogger(w io.Writer, format, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // config checked it
	opts := &slog.HandlerOptions{Level: l}
	if format == "text" {
		return slog.New(handlers.WithRequestIDs(slog.NewTextHandler(w, opts)))
	}
	return slog.New(handlers.WithRequestIDs(slog.NewJSONHandler(w, opts)))
}

// portalConfig is the client portal's configuration: it signs in through the OpenID Connect
// provider the API trusts (RECORDVAULT_OIDC_ISSUER) as client RECORDVAULT_PORTAL_CLIENT_ID
// ("recordvault-portal"; RECORDVAULT_PORTAL_CLIENT_SECRET for a confidential client), is
// reached by browsers at RECORDVAULT_PUBLIC_URL (the listener's own address when unset), and
// seals its session cookies with RECORDVAULT_PORTAL_SESSION_KEY (64 bytes, base64; the same
// on every replica; a key of this process when unset).
func portalConfig(getenv func(string) string, listening string) (handlers.PortalConfig, error) {
	cfg := handlers.PortalConfig{Issuer: getenv("RECORDVAULT_OIDC_ISSUER"), ClientID: getenv("RECORDVAULT_PORTAL_CLIENT_ID"),
		ClientSecret: getenv("RECORDVAULT_PORTAL_CLIENT_SECRET"), PublicURL: cmp.Or(getenv("RECORDVAULT_PUBLIC_URL"), listening)}
	if key := getenv("RECORDVAULT_PORTAL_SESSION_KEY"); key != "" {
		raw, err := base64.StdEncoding.DecodeString(key)
		if err != nil || len(raw) != handlers.SessionKeySize {
			return cfg, fmt.Errorf("RECORDVAULT_PORTAL_SESSION_KEY: %d bytes in base64 (openssl rand -base64 %d)", handlers.SessionKeySize, handlers.SessionKeySize)
		}
		cfg.SessionKey = raw
	}
	return cfg, nil
}

// notifier is how one-time codes reach recipients: SMTP when RECORDVAULT_SMTP_ADDR is set
// (with RECORDVAULT_SMTP_FROM; RECORDVAULT_SMTP_USER and RECORDVAULT_SMTP_PASSWORD for PLAIN
// authentication; RECORDVAULT_SMTP_TLS "starttls", the default, "implicit", or
// "off-development" for a development relay), else the development mailbox file
// RECORDVAULT_DEV_MAILBOX, else none.
func notifier(getenv func(string) string, logger *slog.Logger) (notify.Notifier, error) {
	if addr := getenv("RECORDVAULT_SMTP_ADDR"); addr != "" {
		security, err := notify.ParseSecurity(getenv("RECORDVAULT_SMTP_TLS"))
		if err != nil {
			return nil, fmt.Errorf("RECORDVAULT_SMTP_TLS: %w", err)
		}
		if security == notify.PlainDevelopment {
			logger.Warn("DEVELOPMENT ONLY: one-time codes go to the SMTP relay without TLS", "addr", addr)
		}
		return notify.SMTP{Addr: addr, From: getenv("RECORDVAULT_SMTP_FROM"), User: getenv("RECORDVAULT_SMTP_USER"),
			Password: getenv("RECORDVAULT_SMTP_PASSWORD"), Security: security}, nil
	}
	if path := getenv("RECORDVAULT_DEV_MAILBOX"); path != "" {
		return &notify.Mailbox{Path: path, Logger: logger}, nil
	}
	return notify.Unconfigured{}, nil
}
