package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
)

// Migration is one schema change, read from the embedded file
// NNNN_name.sql.
type Migration struct {
	// Version is the file's number, NNNN; versions start at 1 and are unique.
	Version int
	// Name is the file's description, the part between "NNNN_" and ".sql".
	Name string
	// SQL is the file's content, run as one transaction.
	SQL string
}

//go:embed *.sql
var files embed.FS

// all holds the embedded migrations sorted by version. A badly named or
// duplicate file is a programming error caught by any test of the module.
var all = mustLoad(files)

// All returns every migration sorted by version. The caller may modify the
// returned slice.
func All() []Migration {
	return slices.Clone(all)
}

// Latest returns the version of the newest migration.
func Latest() int {
	if len(all) == 0 {
		return 0
	}
	return all[len(all)-1].Version
}

var fileNameRE = regexp.MustCompile(`^([0-9]{4})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$`)

// parseFileName splits a migration file name NNNN_description.sql into its
// version and name. The version is exactly four digits and not 0000; the
// description is lower-case letters and digits separated by single
// underscores.
func parseFileName(fileName string) (version int, name string, err error) {
	m := fileNameRE.FindStringSubmatch(fileName)
	if m == nil {
		return 0, "", fmt.Errorf("migrations: bad file name %q: want NNNN_description.sql with a lower-case description", fileName)
	}
	version, err = strconv.Atoi(m[1])
	if err != nil || version == 0 {
		return 0, "", fmt.Errorf("migrations: bad file name %q: the version must be 0001 or more", fileName)
	}
	return version, m[2], nil
}

// load reads every *.sql file at the root of fsys, sorted by version. It
// fails on a badly named file, a duplicate version or an empty file.
func load(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("migrations: list files: %w", err)
	}
	seen := make(map[int]string, len(names))
	ms := make([]Migration, 0, len(names))
	for _, fileName := range names {
		version, name, err := parseFileName(fileName)
		if err != nil {
			return nil, err
		}
		if other, ok := seen[version]; ok {
			return nil, fmt.Errorf("migrations: duplicate version %04d: %s and %s", version, other, fileName)
		}
		seen[version] = fileName
		b, err := fs.ReadFile(fsys, fileName)
		if err != nil {
			return nil, fmt.Errorf("migrations: read %s: %w", fileName, err)
		}
		if len(b) == 0 {
			return nil, fmt.Errorf("migrations: %s is empty", fileName)
		}
		ms = append(ms, Migration{Version: version, Name: name, SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	return ms, nil
}

func mustLoad(fsys fs.FS) []Migration {
	ms, err := load(fsys)
	if err != nil {
		panic(err)
	}
	return ms
}
