package pbldap

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// polycomQuery is one line of polycom/ldap-queries-small.tsv.
type polycomQuery struct {
	id, base, scope, filter string
	options                 []string
	code, count             int
	names                   []string
}

func readPolycomQueries(t testing.TB) []polycomQuery {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureDir, "polycom", "ldap-queries-small.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []polycomQuery
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "id\t") {
			continue
		}
		c := strings.Split(line, "\t")
		for len(c) < 8 {
			c = append(c, "")
		}
		code, err1 := strconv.Atoi(strings.Fields(c[5])[0])
		count, err2 := strconv.Atoi(c[6])
		if err1 != nil || err2 != nil {
			t.Fatalf("bad line %q", line)
		}
		q := polycomQuery{id: c[0], base: c[1], scope: c[2], filter: c[3], options: strings.Fields(c[4]), code: code, count: count}
		if c[7] != "" {
			q.names = strings.Split(c[7], "|")
		}
		out = append(out, q)
	}
	return out
}

// publishedNames reads the names of expected/sync-small.tsv: what the sync
// publishes, and so all the phonebook can show.
func publishedNames(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, "expected", "sync-small.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		c := strings.Split(line, "\t")
		if strings.HasPrefix(line, "#") || len(c) < 4 || c[0] == "key" {
			continue
		}
		out = append(out, c[3])
	}
	return out
}

// rebase rewrites a DN of the fixture's slapd to the phonebook's base DN:
// the sync turns the OUs below dc=nordfjord,dc=example into folders.
func rebase(dn string) string {
	const suffix = "dc=nordfjord,dc=example"
	if dn == suffix {
		return DefaultBaseDN
	}
	return strings.TrimSuffix(dn, suffix) + DefaultBaseDN
}

// TestPolycomQueries sends every query of polycom/ldap-queries-small.tsv
// with ldapsearch, rewritten to the phonebook's base DN, and expects the
// names slapd returned over the same data. One deliberate difference: the
// phonebook holds only what the sync published, so the service account and
// the leavers that slapd returns for the whole base (Q10) are not there.
func TestPolycomQueries(t *testing.T) {
	t.Run("from the books in memory", func(t *testing.T) { testPolycomQueries(t, newFixture(t)) })
	t.Run("from the store", func(t *testing.T) { testPolycomQueries(t, newStoreFixture(t)) })
}

func testPolycomQueries(t *testing.T, f *fixture) {
	published := publishedNames(t)
	for _, q := range readPolycomQueries(t) {
		t.Run(q.id, func(t *testing.T) {
			args := append([]string{"-D", "cn=polycom", "-w", tokenA, "-b", rebase(q.base), "-s", q.scope}, q.options...)
			res := ldapsearch(t, f.url, append(args, q.filter, "displayName")...)
			if res.code != q.code {
				t.Fatalf("result code %d, want %d (%s)", res.code, q.code, res.stderr)
			}
			if q.names == nil && q.count > 0 {
				// Which entries come back under a size limit is the server's
				// order: only the count is fixed.
				if len(res.entries) != q.count {
					t.Errorf("%d entries, want %d", len(res.entries), q.count)
				}
				return
			}
			var want []string
			for _, n := range q.names {
				if slices.Contains(published, n) {
					want = append(want, n)
				}
			}
			if got := res.names(); !slices.Equal(got, want) {
				t.Errorf("names\n got %q\nwant %q", got, want)
			}
		})
	}
}
