package phonebook

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

type soapCase struct {
	id, request, action, startFrom string
	http, total                    int
	folders, contacts              []string
	isLast                         string
}

// soapCases reads expected/soap-cases-small.tsv.
func soapCases(t *testing.T) []soapCase {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureDir, "expected", "soap-cases-small.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []soapCase
	sc := bufio.NewScanner(f)
	header := true
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if header {
			header = false
			continue
		}
		c := strings.Split(line, "\t")
		for len(c) < 15 {
			c = append(c, "")
		}
		split := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, "|")
		}
		code, _ := strconv.Atoi(c[9])
		total, _ := strconv.Atoi(c[10])
		cases = append(cases, soapCase{id: c[0], request: c[1], action: c[3], startFrom: c[8], http: code, total: total,
			folders: split(c[11]), contacts: split(c[12]), isLast: c[13]})
	}
	if len(cases) == 0 {
		t.Fatal("no cases in soap-cases-small.tsv")
	}
	return cases
}

var placeholder = regexp.MustCompile(`\{\{(folder|lastid):([^}]*)\}\}`)

// TestTMSReplaysTheSOAPCases sends every request of soap/requests/ to a
// server whose directory was synced from nordfjord-small.ldif and compares
// the answers with expected/soap-cases-small.tsv.
func TestTMSReplaysTheSOAPCases(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Nordfjord Kraft AS")
	syncFixture(t, db, org)
	e := newEnv(t, db, Config{})
	token := e.newToken(t, org, TokenInput{})

	lastID := map[string]string{}
	for _, c := range soapCases(t) {
		t.Run(c.id, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(fixtureDir, c.request))
			if err != nil {
				t.Fatal(err)
			}
			body := placeholder.ReplaceAllStringFunc(string(raw), func(m string) string {
				p := placeholder.FindStringSubmatch(m)
				if p[1] == "folder" {
					return e.folderID(t, token, p[2])
				}
				id, ok := lastID[p[2]]
				if !ok {
					t.Fatalf("%s needs the last Id of %s, which did not run", c.id, p[2])
				}
				return id
			})
			code, answer := e.soap(t, token, c.action, body)
			if code != c.http {
				t.Fatalf("HTTP %d, want %d\n%s", code, c.http, answer)
			}
			env := parseTMS(t, answer)
			var res tmsResult
			var folders, contacts []string
			switch {
			case env.Body.Search != nil:
				res = env.Body.Search.Result
				for _, f := range res.Catalogs {
					folders = append(folders, f.Name)
				}
				for _, en := range res.Entries {
					contacts = append(contacts, en.Name)
				}
				if n := len(res.Catalogs); n > 0 && len(res.Entries) > 0 && strings.Index(answer, "<Entry>") < strings.LastIndex(answer, "<Catalog>") {
					t.Errorf("a Catalog comes after an Entry: folders go first")
				}
				if items := len(res.Catalogs) + len(res.Entries); items > 0 {
					if len(res.Entries) > 0 {
						lastID[c.id] = res.Entries[len(res.Entries)-1].ID
					} else {
						lastID[c.id] = res.Catalogs[len(res.Catalogs)-1].ID
					}
				}
			case env.Body.Get != nil:
				res = env.Body.Get.Result
				if len(res.Catalogs) != 1 {
					t.Fatalf("GetPhonebooks answered %d catalogs, want 1", len(res.Catalogs))
				}
				for _, en := range res.Catalogs[0].Entries {
					contacts = append(contacts, en.Name)
				}
				if res.Catalogs[0].NoOfEntries != c.total {
					t.Errorf("catalog NoOfEntries = %d, want %d", res.Catalogs[0].NoOfEntries, c.total)
				}
			default:
				t.Fatalf("no SearchResponse or GetPhonebooksResponse:\n%s", answer)
			}
			if res.NoOfEntries != c.total {
				t.Errorf("NoOfEntries = %d, want %d", res.NoOfEntries, c.total)
			}
			if strings.Join(folders, "|") != strings.Join(c.folders, "|") {
				t.Errorf("folders on the page:\n got %q\nwant %q", folders, c.folders)
			}
			if strings.Join(contacts, "|") != strings.Join(c.contacts, "|") {
				t.Errorf("contacts on the page:\n got %q\nwant %q", contacts, c.contacts)
			}
			if c.isLast != "" && res.IsLast != c.isLast {
				t.Errorf("IsLast = %q, want %q", res.IsLast, c.isLast)
			}
			if res.FolderExists != "true" {
				t.Errorf("FolderExists = %q, want true", res.FolderExists)
			}
		})
	}
}
