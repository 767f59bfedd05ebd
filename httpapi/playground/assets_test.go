package playground

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"strings"
	"testing"
)

// TestAssetsMatchTheirChecksums: what the binary embeds is what
// scripts/refresh-playground fetched and checked, byte for byte.
func TestAssetsMatchTheirChecksums(t *testing.T) {
	sums, err := fs.ReadFile(assetsDir, "assets/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		want, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("bad SHA256SUMS line %q", line)
		}
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			t.Errorf("%s is listed but not embedded: %v", name, err)
			continue
		}
		got := sha256.Sum256(b)
		if hex.EncodeToString(got[:]) != want {
			t.Errorf("%s differs from its checksum: run scripts/refresh-playground", name)
		}
		listed[name] = true
	}
	embedded, _ := fs.Glob(assets, "assets/*")
	for _, name := range embedded {
		if !listed[strings.TrimPrefix(name, "assets/")] {
			t.Errorf("%s is embedded but has no checksum", name)
		}
	}
}
