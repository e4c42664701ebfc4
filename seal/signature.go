package seal

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
)

// VerifyWith reports whether signature, as Transit's sign returns it ("vault:vN:" and an
// ASN.1 ECDSA signature of SHA-256(message)), is valid under version N of keys (public keys by
// version, as vault.Client.SigningKeys reads them). It needs no Vault call: a verifier that
// holds the public keys can check many signatures, or check them where Vault is out of reach.
func VerifyWith(keys map[int]*ecdsa.PublicKey, message []byte, signature string) bool {
	rest, ok := strings.CutPrefix(signature, "vault:v")
	version, encoded, ok2 := strings.Cut(rest, ":")
	v, err := strconv.Atoi(version)
	if !ok || !ok2 || err != nil || keys[v] == nil {
		return false
	}
	der, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return false
	}
	digest := sha256.Sum256(message)
	return ecdsa.VerifyASN1(keys[v], digest[:], der)
}
