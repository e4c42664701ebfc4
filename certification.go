package recordvault

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// A released copy carries the records custodian's certification with a verification code,
// so that a copy surfacing later (in court, in a school file) can be checked with the clinic:
// which release, to whom, when, and what exactly was released.
//
// The code is derived from the id of the download token the copy was redeemed with (each
// token is redeemed once, so one code names one delivery). The redemption's audit event
// already carries that id and the released content's hash, so the clinic's ledger, which
// reads the signed trail, indexes codes with no extra request on the download path, and a
// bucket writer can neither forge nor remove one. The code is no secret: it only finds a
// delivery, for callers who may see that client's releases anyway.

// certificationAlphabet is Crockford's base32: no I, L, O or U, so a code read aloud or
// copied by hand from paper survives.
const certificationAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var certificationEncoding = base32.NewEncoding(certificationAlphabet).WithPadding(base32.NoPadding)

// certificationChars is the code's length without its hyphens: 60 bits, so that codes do
// not collide in any clinic's lifetime of deliveries (a million copies: odds of about 1 in
// 2 million that any two share a code).
const certificationChars = 12

// CertificationCode is the verification code of the copy delivered with the download token
// whose id is tokenID, as printed: three groups of four, such as "7K2M-9QXD-40FA".
func CertificationCode(tokenID string) string {
	sum := sha256.Sum256([]byte("recordvault copy certification\x00" + tokenID))
	s := certificationEncoding.EncodeToString(sum[:])[:certificationChars]
	return s[:4] + "-" + s[4:8] + "-" + s[8:]
}

// ParseCertificationCode reads a code as a person types it: in either case, with or without
// hyphens and spaces, and with the letters Crockford's base32 reads as digits (O as 0, I and
// L as 1). ok is false for anything that cannot be a code.
func ParseCertificationCode(s string) (code string, ok bool) {
	s = strings.NewReplacer("-", "", " ", "", "O", "0", "I", "1", "L", "1").Replace(strings.ToUpper(s))
	if len(s) != certificationChars || strings.Trim(s, certificationAlphabet) != "" {
		return "", false
	}
	return s[:4] + "-" + s[4:8] + "-" + s[8:], true
}
