// Package transit is the table of every Vault Transit key recordvault uses: its name, type,
// what it does, whether its old versions are retired, and which package uses it. Vault
// provisioning (vault.Client.ProvisionClinic), each package's key names and the test that
// checks deploy/helm/recordvault/files/recordvault-policy.hcl all read this table, so a new key is one row
// here. It does no I/O and imports no SDK.
package transit

import (
	"strings"

	"github.com/recordvault/recordvault"
)

// Types of Transit key.
const (
	// AES keys wrap data keys (derived: each data key's context names clinic, category and
	// record) and compute HMACs. Never exportable, never convergent.
	AES = "aes256-gcm96"
	// ECDSA keys sign (P-256). Never exportable.
	ECDSA = "ecdsa-p256"
)

// Use is what the service does with a key.
type Use string

const (
	Wrap   Use = "wrap"   // data keys: datakey, decrypt, rewrap
	HMAC   Use = "hmac"   // HMAC-SHA-256
	Sign   Use = "sign"   // SHA-256 signatures
	Verify Use = "verify" // verifying its signatures through Vault
)

// Key is one row of the table; its name is "rv-<clinic>-<Suffix>" (Name).
type Key struct {
	Suffix string
	Type   string
	Uses   []Use
	// Retires: after a rotation and rewrap, old versions are retired (min_decryption_version).
	// A key that does not retire pins the versions it was used with (an HMAC that must match
	// for ever, a signature that must verify for ever).
	Retires bool
	Package string // the package that uses it
	Purpose string
}

// Suffixes of the keys that are not a category's.
const (
	ClientIdentity  = "client-identity"
	ClientIndex     = "client-index"
	State           = "state"
	Disclosure      = "disclosure"
	ManifestSigning = "manifest-signing"
	DownloadSigning = "download-signing"
	AuditSigning    = "audit-signing"
)

// Keys is every Transit key of a clinic.
var Keys = []Key{
	{CategorySuffix(recordvault.PsychotherapyNote), AES, []Use{Wrap}, true, "records", "data keys of psychotherapy notes"},
	{CategorySuffix(recordvault.ProgressNote), AES, []Use{Wrap}, true, "records", "data keys of progress notes"},
	{CategorySuffix(recordvault.Evaluation), AES, []Use{Wrap}, true, "records", "data keys of evaluations"},
	{CategorySuffix(recordvault.SUDRecord), AES, []Use{Wrap}, true, "records", "data keys of SUD (42 CFR Part 2) records"},
	{ClientIdentity, AES, []Use{Wrap}, true, "clinic", "data keys of clients' sealed identities"},
	{ClientIndex, AES, []Use{HMAC}, false, "clinic, otp", "the blind index of names and dates of birth; MACs of one-time codes and download sessions"},
	{State, AES, []Use{HMAC}, false, "clinic", "tags on client profiles and the roster"},
	{Disclosure, AES, []Use{Wrap}, true, "disclosure", "data keys of authorizations, releases, court orders and access requests"},
	{ManifestSigning, ECDSA, []Use{Sign, Verify}, false, "disclosure", "signatures of court orders' release manifests"},
	{DownloadSigning, ECDSA, []Use{Sign}, false, "tokens", "signatures of download tokens (JWS)"},
	{AuditSigning, ECDSA, []Use{Sign}, false, "audit", "signatures of audit blocks, checkpoints and acknowledged losses"},
}

// Name is the name of the clinic's key with suffix. Clinic ids are letters and digits, so
// "rv-<clinic>-" is a prefix no other clinic's keys share: a Vault policy grants one clinic's
// keys with a glob.
func Name(clinic, suffix string) string { return "rv-" + clinic + "-" + suffix }

// CategorySuffix is the suffix of a record category's key.
func CategorySuffix(c recordvault.Category) string { return strings.ReplaceAll(string(c), "_", "-") }
