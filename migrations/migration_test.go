package migrations_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bifrost-video/bifrost/migrations"
)

func TestAllIsSortedAndNamedByTheRule(t *testing.T) {
	all := migrations.All()
	if len(all) == 0 {
		t.Fatal("All() is empty")
	}
	for i, m := range all {
		if i > 0 && m.Version <= all[i-1].Version {
			t.Errorf("All()[%d] version %d after %d: not sorted", i, m.Version, all[i-1].Version)
		}
		if !strings.HasPrefix(strings.TrimSpace(m.SQL), "--") {
			t.Errorf("%04d_%s does not start with a comment saying why", m.Version, m.Name)
		}
	}
	if got, want := migrations.Latest(), all[len(all)-1].Version; got != want {
		t.Errorf("Latest() = %d, want %d", got, want)
	}
	if all[0].Version != 1 || all[0].Name != "organisations_users_rooms" {
		t.Errorf("first migration = %04d_%s, want 0001_organisations_users_rooms", all[0].Version, all[0].Name)
	}
	all[0].Version = 999
	if migrations.All()[0].Version != 1 {
		t.Error("changing All()'s result changed the package's list")
	}
}

func TestParseFileName(t *testing.T) {
	good := []struct {
		file    string
		version int
		name    string
	}{
		{"0001_organisations_users_rooms.sql", 1, "organisations_users_rooms"},
		{"0042_cdr.sql", 42, "cdr"},
		{"9999_x2.sql", 9999, "x2"},
	}
	for _, tt := range good {
		t.Run(tt.file+" is accepted", func(t *testing.T) {
			v, name, err := migrations.ParseFileName(tt.file)
			if err != nil || v != tt.version || name != tt.name {
				t.Errorf("ParseFileName = %d, %q, %v; want %d, %q, nil", v, name, err, tt.version, tt.name)
			}
		})
	}
	bad := map[string]string{
		"0000_zero.sql":       "version zero",
		"001_short.sql":       "three digits",
		"00001_long.sql":      "five digits",
		"0001-dash.sql":       "a dash instead of an underscore",
		"0001_.sql":           "no description",
		"0001.sql":            "no description at all",
		"0001_Upper.sql":      "upper case",
		"0001_two__under.sql": "a double underscore",
		"0001_trailing_.sql":  "a trailing underscore",
		"0001_space name.sql": "a space",
		"0001_name.SQL":       "an upper-case extension",
		"0001_name.sql.orig":  "a backup file",
		"abcd_name.sql":       "letters for the version",
		"0001_name.down.sql":  "a down migration",
		"notes.sql":           "no version",
		"0001_émigration.sql": "a non-ASCII letter",
		" 0001_name.sql":      "a leading space",
		"0001_name":           "no extension",
		"../0001_escape.sql":  "a path",
		"0001_tab\tname.sql":  "a tab",
		"0001_with.dots.sql":  "a dot in the description",
		"-001_negative.sql":   "a negative version",
		"+001_positive.sql":   "a plus sign",
		"0x01_hex.sql":        "a hexadecimal version",
		"0001_name.sql\n":     "a trailing newline",
		"0001_name.sql.sql":   "a double extension",
		"0001__leading.sql":   "a leading underscore",
		"0001_name-dash.sql":  "a dash in the description",
	}
	for file, why := range bad {
		t.Run(why+" is rejected", func(t *testing.T) {
			if v, name, err := migrations.ParseFileName(file); err == nil {
				t.Errorf("ParseFileName(%q) = %d, %q, nil; want an error", file, v, name)
			}
		})
	}
}

func TestBadFilesPanicAtInit(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("-- why\nSELECT 1;\n")}
	for name, fsys := range map[string]fstest.MapFS{
		"a badly named file":  {"0001_a.sql": sql, "1_b.sql": sql},
		"a duplicate version": {"0001_a.sql": sql, "0001_b.sql": sql},
	} {
		t.Run(name+" panics", func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("MustLoad did not panic")
				}
			}()
			migrations.MustLoad(fsys)
		})
	}
}

func TestLoad(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("-- why\nSELECT 1;\n")}
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		wantErr string
		want    []int
	}{
		{"files are sorted by version", fstest.MapFS{"0010_b.sql": sql, "0002_a.sql": sql, "0001_c.sql": sql}, "", []int{1, 2, 10}},
		{"a duplicate version is rejected", fstest.MapFS{"0001_a.sql": sql, "0001_b.sql": sql}, "duplicate version 0001", nil},
		{"a badly named file is rejected", fstest.MapFS{"0001_a.sql": sql, "2_b.sql": sql}, "bad file name", nil},
		{"an empty file is rejected", fstest.MapFS{"0001_a.sql": &fstest.MapFile{}}, "empty", nil},
		{"other files are ignored", fstest.MapFS{"0001_a.sql": sql, "README.md": sql}, "", []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := migrations.Load(tt.fsys)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("versions = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("versions = %v, want %v", got, tt.want)
				}
			}
		})
	}
}
