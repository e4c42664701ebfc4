package rvtest

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// The image tags are those deploy/servers/images.sh makes of deploy/versions.env, where a
// version changes: this fails until the constants follow.
func TestImagesMatchVersions(t *testing.T) {
	f, err := os.Open("../deploy/versions.env")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	versions := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && !strings.HasPrefix(k, "#") {
			versions[k] = v
		}
	}
	if VaultImage != "recordvault-vault:"+versions["VAULT_VERSION"] || MinIOImage != "recordvault-minio:"+versions["MINIO_VERSION"] ||
		SeaweedFSImage != "recordvault-seaweedfs:"+versions["SEAWEEDFS_VERSION"] {
		t.Fatalf("VaultImage %s, MinIOImage %s, SeaweedFSImage %s; deploy/versions.env says %v", VaultImage, MinIOImage, SeaweedFSImage, versions)
	}
}
