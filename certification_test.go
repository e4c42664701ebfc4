package recordvault_test

import (
	"strings"
	"testing"

	"github.com/recordvault/recordvault"
)

// The code of a token id is fixed forever: copies already printed carry it.
func TestCertificationCodeVector(t *testing.T) {
	if got := recordvault.CertificationCode("jti1"); got != "G88B-M2RK-PAB9" {
		t.Fatalf("CertificationCode(jti1) = %q", got)
	}
}

func TestParseCertificationCode(t *testing.T) {
	code := recordvault.CertificationCode("some token id")
	for _, typed := range []string{code, " " + code + " ", strings.ToLower(code), strings.ReplaceAll(code, "-", "")} {
		if got, ok := recordvault.ParseCertificationCode(typed); !ok || got != code {
			t.Errorf("ParseCertificationCode(%q) = %q, %v; want %q", typed, got, ok, code)
		}
	}
	if got, ok := recordvault.ParseCertificationCode("0OIL-1ABC-DEFG"); !ok || got != "0011-1ABC-DEFG" {
		t.Errorf("look-alike letters: %q, %v", got, ok)
	}
	for _, bad := range []string{"", "ABCD-EFGH-JKM", "ABCD-EFGH-JKMNP", "ABCD-EFGH-JKMU", "ABCD/EFGH/JKMN", "ABCD-EFGH-JKM\u00e9"} {
		if got, ok := recordvault.ParseCertificationCode(bad); ok {
			t.Errorf("ParseCertificationCode(%q) = %q, accepted", bad, got)
		}
	}
}
