package storage

import "testing"

func TestCheckKey(t *testing.T) {
	for key, ok := range map[string]bool{
		"c/0a1b/records/r9":        true,
		"c/0a1b/blobs/r9.bin":      true,
		"t/abc-def_1":              true,
		"":                         false,
		"/leading/slash":           false,
		"c/../etc":                 false,
		"c/UPPER":                  false,
		"c/name with space":        false,
		"c/jane.doe@example.com":   false,
		"a/b/c/d/e/f/g/h/too-deep": false,
		"c//empty":                 false,
	} {
		if err := checkKey(key); (err == nil) != ok {
			t.Errorf("checkKey(%q) = %v, want ok=%v", key, err, ok)
		}
	}
}
