package pglocal

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeInstall creates dir/{initdb,pg_ctl,postgres} as empty executables,
// leaving out the names in skip.
func fakeInstall(t *testing.T, dir string, skip ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range serverPrograms {
		if slices.Contains(skip, name) {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func notOnPath(string) (string, error) { return "", exec.ErrNotFound }

func TestFindBinDir(t *testing.T) {
	t.Run("without PATH it takes the highest complete version under the library directory", func(t *testing.T) {
		lib := t.TempDir()
		fakeInstall(t, filepath.Join(lib, "9.6", "bin"))
		fakeInstall(t, filepath.Join(lib, "15", "bin"))
		fakeInstall(t, filepath.Join(lib, "13", "bin"))
		fakeInstall(t, filepath.Join(lib, "16", "bin"), "postgres") // incomplete
		got, err := findBinDir(notOnPath, lib)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(lib, "15", "bin"); got != want {
			t.Errorf("findBinDir = %s, want %s", got, want)
		}
	})
	t.Run("initdb on PATH wins and its symlink is followed to the real directory", func(t *testing.T) {
		root := t.TempDir()
		real := filepath.Join(root, "lib", "14", "bin")
		fakeInstall(t, real)
		fakeInstall(t, filepath.Join(root, "lib", "17", "bin"))
		pathDir := filepath.Join(root, "usr-local-bin")
		if err := os.MkdirAll(pathDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(real, "initdb"), filepath.Join(pathDir, "initdb")); err != nil {
			t.Fatal(err)
		}
		lookPath := func(name string) (string, error) { return filepath.Join(pathDir, name), nil }
		got, err := findBinDir(lookPath, filepath.Join(root, "lib"))
		if err != nil {
			t.Fatal(err)
		}
		if got != real {
			t.Errorf("findBinDir = %s, want %s", got, real)
		}
	})
	t.Run("nothing installed is ErrNotFound with the advice", func(t *testing.T) {
		_, err := findBinDir(notOnPath, filepath.Join(t.TempDir(), "missing"))
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"9.6", "15", -1},
		{"15", "9.6", 1},
		{"15", "15", 0},
		{"10", "9.6", 1},
		{"devel", "12", -1},
	}
	for _, tt := range tests {
		got := compareVersions(tt.a, tt.b)
		if sign(got) != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestSocketDirFor(t *testing.T) {
	t.Run("a short directory keeps the socket inside it", func(t *testing.T) {
		if got, want := socketDirFor("/srv/bifrost/postgres"), "/srv/bifrost/postgres/run"; got != want {
			t.Errorf("socketDirFor = %s, want %s", got, want)
		}
	})
	t.Run("a long directory gets a short, stable one under the temp directory", func(t *testing.T) {
		long := filepath.Join("/srv", strings.Repeat("long-", 20), "postgres")
		got := socketDirFor(long)
		if filepath.Dir(got) != filepath.Clean(os.TempDir()) {
			t.Errorf("socketDirFor = %s, want a directory in %s", got, os.TempDir())
		}
		if again := socketDirFor(long); again != got {
			t.Errorf("socketDirFor is not stable: %s then %s", got, again)
		}
		if other := socketDirFor(long + "2"); other == got {
			t.Errorf("two directories share socket directory %s", got)
		}
	})
}
