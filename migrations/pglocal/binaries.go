package pglocal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// debianLibDir is where Debian installs each major version's server binaries
// (/usr/lib/postgresql/15/bin); they are not on PATH there.
const debianLibDir = "/usr/lib/postgresql"

// serverPrograms are the programs a bin directory must hold.
var serverPrograms = []string{"initdb", "pg_ctl", "postgres"}

// findBinDir returns the directory holding initdb, pg_ctl and postgres: the
// one initdb is found in on PATH (following symlinks, so the three come from
// one installation), else the highest version's libDir/*/bin.
func findBinDir(lookPath func(string) (string, error), libDir string) (string, error) {
	if p, err := lookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if dir := filepath.Dir(p); hasPrograms(dir) {
			return dir, nil
		}
	}
	versions, _ := filepath.Glob(filepath.Join(libDir, "*", "bin"))
	slices.SortFunc(versions, func(a, b string) int {
		return compareVersions(filepath.Base(filepath.Dir(a)), filepath.Base(filepath.Dir(b)))
	})
	for _, dir := range slices.Backward(versions) {
		if hasPrograms(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w (looked on PATH and in %s/*/bin)", ErrNotFound, libDir)
}

func hasPrograms(dir string) bool {
	for _, name := range serverPrograms {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// compareVersions compares version directory names such as "9.6" and "15"
// numerically, part by part; a non-numeric part sorts first.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(pa), len(pb)) {
		na, nb := -1, -1
		if i < len(pa) {
			if n, err := strconv.Atoi(pa[i]); err == nil {
				na = n
			}
		}
		if i < len(pb) {
			if n, err := strconv.Atoi(pb[i]); err == nil {
				nb = n
			}
		}
		if na != nb {
			return na - nb
		}
	}
	return strings.Compare(a, b)
}
