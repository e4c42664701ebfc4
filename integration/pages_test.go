//go:build integration

package integration

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recordvault/recordvault/internal/pdftext"
)

// TestCopyPagesAsImages renders every page of a released copy and of an accounting, as the
// service sends them, to images with poppler's pdftoppm (installed by `make browser`), as a
// reader's viewer would draw them: each is a US Letter page with ink in its body and in its
// footer (the page number, the watermark line), and the PDF reader finds "Page N of M" on it.
func TestCopyPagesAsImages(t *testing.T) {
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Fatalf("pdftoppm is needed (make browser installs poppler-utils): %v", err)
	}
	e := newDownloadEnv(t)
	status, _, released := e.redeem(t, "pat", e.token(t, "pat", e.a, e.release), "Accept", "application/pdf")
	if status != http.StatusOK {
		t.Fatalf("the copy: %d", status)
	}
	status, _, accounting := e.call(t, "pat", "GET", "/v1/clients/"+e.a+"/accounting", nil, "Accept", "application/pdf")
	if status != http.StatusOK {
		t.Fatalf("the accounting: %d", status)
	}
	for name, doc := range map[string][]byte{"released copy": released, "accounting": accounting} {
		texts, err := pdftext.Pages(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		dir := t.TempDir()
		src := filepath.Join(dir, "doc.pdf")
		if err := os.WriteFile(src, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(pdftoppm, "-r", "72", "-png", src, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
			t.Fatalf("%s: pdftoppm: %v\n%s", name, err, out)
		}
		images, _ := filepath.Glob(filepath.Join(dir, "page-*.png"))
		if len(images) == 0 || len(images) != len(texts) {
			t.Fatalf("%s: %d page images, %d pages of text", name, len(images), len(texts))
		}
		for i, path := range images {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("%s page %d: %v", name, i+1, err)
			}
			if b := img.Bounds(); b.Dx() != 612 || b.Dy() != 792 {
				t.Errorf("%s page %d is %dx%d points, want US Letter (612x792)", name, i+1, b.Dx(), b.Dy())
			}
			if ink(img, image.Rect(72, 60, 540, 300)) == 0 || ink(img, image.Rect(72, 730, 540, 792)) == 0 {
				t.Errorf("%s page %d: a blank body or footer", name, i+1)
			}
			if want := fmt.Sprintf("Page %d of %d", i+1, len(texts)); !strings.Contains(texts[i], want) {
				t.Errorf("%s page %d lacks %q", name, i+1, want)
			}
		}
		t.Logf("%s: %d pages drawn", name, len(images))
	}
}

// ink counts the dark pixels of img inside r.
func ink(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if cr, cg, cb, _ := img.At(x, y).RGBA(); cr+cg+cb < 3*0x8000 {
				n++
			}
		}
	}
	return n
}
