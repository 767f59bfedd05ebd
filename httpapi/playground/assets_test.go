package playground

import (
	"io/fs"
	"testing"

	"cpor/testkit/vendored"
)

// TestAssetsMatchTheirChecksums: what the binary embeds is what
// scripts/refresh-assets fetched and checked, byte for byte.
func TestAssetsMatchTheirChecksums(t *testing.T) {
	sums, err := fs.ReadFile(assetsDir, "assets/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	vendored.Verify(t, assets, "assets", sums)
}
