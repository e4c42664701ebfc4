// Package config is the one table of the service's settings (environment variables): each
// one's name, default, meaning and check, and which are secrets, given directly or as
// NAME_FILE, the path of a file that holds them (a mounted secret). Load reads and checks
// them all at start and names every wrong one; docs/CONFIGURATION.md is this table
// (TestConfigurationDoc keeps them in step). It reads files only through the function it is
// given.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/policy"
)

// Setting is one setting of the service.
type Setting struct {
	Name    string
	Default string // "" when there is none
	// DevDefault is the default under RECORDVAULT_DEVELOPMENT=true, when it differs.
	DevDefault string
	Meaning    string
	Required   bool
	// Secret settings may be given as Name+"_FILE", a path to a file holding the value, and
	// are never printed.
	Secret bool
	Check  func(v string) error // nil: any value
}

// Development is the setting that makes a stack a development one.
const Development = "RECORDVAULT_DEVELOPMENT"

// Settings are every setting the service reads, in the order the documentation lists them.
var Settings = []Setting{
	{Name: Development, Default: "false", Meaning: "true for a development stack on one machine: a Vault root token, plain HTTP to Vault and S3, and the development mailbox are accepted. Never in production.", Check: isBool},
	{Name: "RECORDVAULT_LISTEN", Default: "127.0.0.1:8080", Meaning: "The address the API and the portal are served on.", Check: isHostPort},
	{Name: "RECORDVAULT_OPERATOR_LISTEN", Meaning: "The operator listener (readiness with reasons), for the operators' network only; off when empty.", Check: isHostPort},
	{Name: "RECORDVAULT_TLS_CERT_FILE", Meaning: "TLS on the listener: the certificate (PEM, with its chain), reloaded when the file changes; with RECORDVAULT_TLS_KEY_FILE. Plain HTTP when empty (TLS ended by a proxy in front)."},
	{Name: "RECORDVAULT_TLS_KEY_FILE", Meaning: "Its private key (PEM)."},
	{Name: "RECORDVAULT_SHUTDOWN_DELAY", Default: "5s", DevDefault: "0s", Meaning: "On SIGTERM, how long the service answers not ready before it stops taking requests, so that load balancers route around it.", Check: isDurationIn(0, 2*time.Minute)},
	{Name: "RECORDVAULT_SHUTDOWN_GRACE", Default: "30s", Meaning: "Then, how long requests in flight (downloads among them) have to finish.", Check: isDurationIn(time.Second, 10*time.Minute)},
	{Name: "RECORDVAULT_PUBLIC_URL", Meaning: "Where browsers reach the service (the portal's sign-in returns there); the listener's own address when empty. https makes the portal's cookies Secure.", Check: isHTTPURL},
	{Name: "RECORDVAULT_LOG_FORMAT", Default: "json", Meaning: "json (one object a line) or text.", Check: oneOf("json", "text")},
	{Name: "RECORDVAULT_LOG_LEVEL", Default: "info", Meaning: "debug, info, warn or error.", Check: oneOf("debug", "info", "warn", "error")},
	{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Meaning: "OpenTelemetry tracing: the OTLP/HTTP collector spans go to (such as http://otel-collector:4318); off when empty. Spans carry routes, operations and statuses, never an id.", Check: isHTTPURL},
	{Name: "SSL_CERT_FILE", Meaning: "Read by Go's TLS itself: the PEM bundle of certificate authorities trusted for Vault, S3 and the OIDC provider, in place of the system's; a bundle holding the internal CA that signs Vault's and MinIO's certificates, public roots included."},
	{Name: "VAULT_ADDR", Required: true, Meaning: "The Vault server; https outside development.", Check: isHTTPURL},
	{Name: "VAULT_TOKEN", Secret: true, Meaning: "A Vault token; a root token only in development. Production signs in with AppRole instead."},
	{Name: "VAULT_ROLE_ID", Secret: true, Meaning: "The service's AppRole role id (with VAULT_SECRET_ID)."},
	{Name: "VAULT_SECRET_ID", Secret: true, Meaning: "The service's AppRole secret id."},
	{Name: "VAULT_SECRET_ID_WRAPPED", Default: "false", Meaning: "true when VAULT_SECRET_ID (or its file) is a response-wrapping token holding the secret id: unwrapped once at start, so that a token already used by someone else stops the start.", Check: isBool},
	{Name: "VAULT_KUBERNETES_ROLE", Meaning: "On Kubernetes: the Vault role the service signs in as with its pod's service-account token (the Kubernetes auth method), instead of AppRole.", Check: isName},
	{Name: "VAULT_KUBERNETES_MOUNT", Default: "kubernetes", Meaning: "Where the Kubernetes auth method is mounted.", Check: isName},
	{Name: "VAULT_KUBERNETES_TOKEN_FILE", Default: "/var/run/secrets/kubernetes.io/serviceaccount/token", Meaning: "The service-account token, read anew at every login (Kubernetes rotates it)."},
	{Name: "VAULT_APPROLE_MOUNT", Default: "approle", Meaning: "Where the AppRole auth method is mounted.", Check: isName},
	{Name: "RECORDVAULT_TRANSIT_MOUNT", Default: "transit", Meaning: "Where the Transit secrets engine is mounted.", Check: isName},
	{Name: "RECORDVAULT_S3_ENDPOINT", Required: true, Meaning: "The S3 endpoint, host:port.", Check: isHostPort},
	{Name: "RECORDVAULT_S3_ACCESS_KEY", Required: true, Secret: true, Meaning: "The service's S3 access key: a least-privilege user, not the root."},
	{Name: "RECORDVAULT_S3_SECRET_KEY", Required: true, Secret: true, Meaning: "Its secret key."},
	{Name: "RECORDVAULT_S3_BUCKET", Default: "recordvault", Meaning: "The bucket.", Check: isName},
	{Name: "RECORDVAULT_S3_TLS", Default: "true", DevDefault: "false", Meaning: "TLS to S3.", Check: isBool},
	{Name: "RECORDVAULT_S3_REGION", Meaning: "The bucket's region, where the S3 server needs one."},
	{Name: "RECORDVAULT_AUDIT_RETENTION_DAYS", Meaning: "Object Lock retention of audit blocks, in days (a bucket with Object Lock); off when empty. 2192 keeps six years.", Check: isIntIn(0, 100*366)},
	{Name: "RECORDVAULT_AUDIT_LOG", Default: "recordvault-audit.jsonl", Meaning: "The plain copy of every audit event on the service's disk."},
	{Name: "RECORDVAULT_OIDC_ISSUER", Required: true, Meaning: "The OpenID Connect provider whose tokens the API accepts and the portal signs in with.", Check: isHTTPURL},
	{Name: "RECORDVAULT_OIDC_AUDIENCE", Default: "recordvault", Meaning: "The audience the API's tokens carry."},
	{Name: "RECORDVAULT_OIDC_JWKS_URL", Meaning: "The provider's keys; found by discovery when empty.", Check: isHTTPURL},
	{Name: "RECORDVAULT_PORTAL_CLIENT_ID", Default: "recordvault-portal", Meaning: "The portal's client id at the provider."},
	{Name: "RECORDVAULT_PORTAL_CLIENT_SECRET", Secret: true, Meaning: "Its secret, for a confidential client; PKCE alone when empty."},
	{Name: "RECORDVAULT_PORTAL_SESSION_KEY", Secret: true, Meaning: "64 bytes in base64 (openssl rand -base64 64) sealing the portal's session cookies, the same on every replica; a key of the process when empty (sessions end with it).", Check: isBase64Bytes(64)},
	{Name: "RECORDVAULT_DOWNLOAD_TTL", Default: "10m", Meaning: "How long a download link lives (at most 15m).", Check: isDurationIn(time.Minute, 15*time.Minute)},
	{Name: "RECORDVAULT_CLINICS", Meaning: "Clinics to provision at start (their Transit keys), comma separated ids.", Check: isIDList},
	{Name: "RECORDVAULT_JURISDICTION", Default: "US", Meaning: "The law a clinic practises under until its admin sets it: " + jurisdictions() + ".", Check: oneOf(slices.Sorted(maps.Keys(policy.Jurisdictions))...)},
	{Name: "RECORDVAULT_SMTP_ADDR", Meaning: "The SMTP server one-time codes are sent through, host:port.", Check: isHostPort},
	{Name: "RECORDVAULT_SMTP_FROM", Meaning: "The codes' sender address."},
	{Name: "RECORDVAULT_SMTP_USER", Meaning: "SMTP user, for PLAIN authentication."},
	{Name: "RECORDVAULT_SMTP_PASSWORD", Secret: true, Meaning: "Its password."},
	{Name: "RECORDVAULT_SMTP_TLS", Default: "starttls", Meaning: "starttls, implicit, or off-development (development only).", Check: oneOf("starttls", "implicit", "off-development")},
	{Name: "RECORDVAULT_DEV_MAILBOX", Meaning: "Development only: a file one-time codes are appended to instead of mailed."},
}

// Values are the settings as Load read them.
type Values struct {
	values      map[string]string
	development bool
}

// Get returns a setting's value: given, read from its file, or its default. It has the shape
// of os.Getenv, so that the packages that read their own settings read them checked.
func (v *Values) Get(name string) string { return v.values[name] }

// Development reports whether the stack is a development one.
func (v *Values) Development() bool { return v.development }

// Load reads every setting with getenv (a secret from NAME_FILE through readFile), applies
// defaults, and checks each and the rules between them; the error names every setting that
// is wrong, never a secret's value.
func Load(getenv func(string) string, readFile func(string) ([]byte, error)) (*Values, error) {
	v := &Values{values: map[string]string{}}
	v.development = getenv(Development) == "true"
	var errs []error
	for _, s := range Settings {
		val := getenv(s.Name)
		if s.Secret {
			if path := getenv(s.Name + "_FILE"); path != "" {
				if val != "" {
					errs = append(errs, fmt.Errorf("%s: set %s or %s_FILE, not both", s.Name, s.Name, s.Name))
					continue
				}
				b, err := readFile(path)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s_FILE: %w", s.Name, err))
					continue
				}
				val = strings.TrimRight(string(b), "\r\n")
			}
		}
		if val == "" {
			val = s.Default
			if v.development && s.DevDefault != "" {
				val = s.DevDefault
			}
		}
		switch {
		case val == "" && s.Required:
			errs = append(errs, fmt.Errorf("%s: required (%s)", s.Name, s.Meaning))
		case val != "" && s.Check != nil:
			if err := s.Check(val); err != nil {
				if s.Secret {
					errs = append(errs, fmt.Errorf("%s: %w", s.Name, err))
				} else {
					errs = append(errs, fmt.Errorf("%s=%q: %w", s.Name, val, err))
				}
			}
		}
		v.values[s.Name] = val
	}
	errs = append(errs, v.rules()...)
	return v, errors.Join(errs...)
}

// rules are the checks between settings.
func (v *Values) rules() []error {
	var errs []error
	if (v.Get("VAULT_ROLE_ID") == "") != (v.Get("VAULT_SECRET_ID") == "") {
		errs = append(errs, errors.New("VAULT_ROLE_ID and VAULT_SECRET_ID: set both (AppRole), or neither"))
	}
	if (v.Get("RECORDVAULT_TLS_CERT_FILE") == "") != (v.Get("RECORDVAULT_TLS_KEY_FILE") == "") {
		errs = append(errs, errors.New("RECORDVAULT_TLS_CERT_FILE and RECORDVAULT_TLS_KEY_FILE: set both, or neither"))
	}
	if v.Get("VAULT_ROLE_ID") != "" && v.Get("VAULT_KUBERNETES_ROLE") != "" {
		errs = append(errs, errors.New("VAULT_ROLE_ID and VAULT_KUBERNETES_ROLE: one way to sign in to Vault, not two"))
	}
	if v.Get("VAULT_ROLE_ID") == "" && v.Get("VAULT_KUBERNETES_ROLE") == "" && v.Get("VAULT_TOKEN") == "" {
		errs = append(errs, errors.New("VAULT_TOKEN, VAULT_ROLE_ID with VAULT_SECRET_ID, or VAULT_KUBERNETES_ROLE: the service needs a way to sign in to Vault"))
	}
	if v.development {
		return errs
	}
	if u, err := url.Parse(v.Get("VAULT_ADDR")); err == nil && u.Scheme == "http" {
		errs = append(errs, fmt.Errorf("VAULT_ADDR: https outside development (%s=true for a stack on one machine)", Development))
	}
	if v.Get("RECORDVAULT_DEV_MAILBOX") != "" {
		errs = append(errs, fmt.Errorf("RECORDVAULT_DEV_MAILBOX: development only: codes go by SMTP (RECORDVAULT_SMTP_ADDR)"))
	}
	if v.Get("RECORDVAULT_SMTP_TLS") == "off-development" {
		errs = append(errs, fmt.Errorf("RECORDVAULT_SMTP_TLS: off-development is for development only"))
	}
	return errs
}

// Markdown is the table of Settings, as docs/CONFIGURATION.md shows it.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| setting | default | secret (`_FILE`) | meaning |\n|---|---|---|---|\n")
	for _, s := range Settings {
		def := "`" + s.Default + "`"
		switch {
		case s.Required:
			def = "required"
		case s.Default == "":
			def = ""
		}
		if s.DevDefault != "" {
			def += " (`" + s.DevDefault + "` in development)"
		}
		secret := ""
		if s.Secret {
			secret = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", s.Name, def, secret, s.Meaning)
	}
	return b.String()
}

func isBool(v string) error {
	if v != "true" && v != "false" {
		return errors.New("true or false")
	}
	return nil
}

func isHostPort(v string) error {
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		return errors.New("host:port")
	}
	return nil
}

func isHTTPURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("an absolute http or https URL")
	}
	return nil
}

func isName(v string) error {
	if !recordvault.ValidName(v) {
		return errors.New("letters, digits, hyphens")
	}
	return nil
}

func oneOf(allowed ...string) func(string) error {
	return func(v string) error {
		if !slices.Contains(allowed, v) {
			return fmt.Errorf("one of %s", strings.Join(allowed, ", "))
		}
		return nil
	}
}

func isIntIn(lo, hi int) func(string) error {
	return func(v string) error {
		if n, err := strconv.Atoi(v); err != nil || n < lo || n > hi {
			return fmt.Errorf("a whole number from %d to %d", lo, hi)
		}
		return nil
	}
}

func isDurationIn(lo, hi time.Duration) func(string) error {
	return func(v string) error {
		if d, err := time.ParseDuration(v); err != nil || d < lo || d > hi {
			return fmt.Errorf("a duration from %s to %s, such as 10m", lo, hi)
		}
		return nil
	}
}

func isBase64Bytes(n int) func(string) error {
	return func(v string) error {
		if b, err := base64.StdEncoding.DecodeString(v); err != nil || len(b) != n {
			return fmt.Errorf("%d bytes in base64", n)
		}
		return nil
	}
}

func isIDList(v string) error {
	for _, id := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		if !recordvault.ValidID(id) {
			return fmt.Errorf("clinic ids, lowercase letters and digits, comma separated")
		}
	}
	return nil
}

func jurisdictions() string {
	var out []string
	for _, code := range slices.Sorted(maps.Keys(policy.Jurisdictions)) {
		out = append(out, code+" ("+policy.Jurisdictions[code].Name+")")
	}
	return strings.Join(out, ", ")
}
