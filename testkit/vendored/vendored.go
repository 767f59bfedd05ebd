// Package vendored checks, in tests, that the npm files a package embeds
// are byte for byte what scripts/refresh-assets fetched and verified
// against the registry: every file listed in the directory's SHA256SUMS is
// embedded with that checksum, and every embedded file is listed.
package vendored

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
	"testing"
)

// Verify checks dir of files against sums, the text of its SHA256SUMS.
// Files named in skip (such as the checksum list itself) need no entry.
func Verify(t *testing.T, files fs.FS, dir string, sums []byte, skip ...string) {
	t.Helper()
	listed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		want, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("bad SHA256SUMS line %q", line)
		}
		b, err := fs.ReadFile(files, path.Join(dir, name))
		if err != nil {
			t.Errorf("%s is listed but not embedded: %v", name, err)
			continue
		}
		got := sha256.Sum256(b)
		if hex.EncodeToString(got[:]) != want {
			t.Errorf("%s differs from its checksum: run scripts/refresh-assets", name)
		}
		listed[name] = true
	}
	for _, name := range skip {
		listed[name] = true
	}
	embedded, err := fs.ReadDir(files, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range embedded {
		if !e.IsDir() && !listed[e.Name()] {
			t.Errorf("%s is embedded but has no checksum", e.Name())
		}
	}
}
