package pbldap

import (
	"context"
	"fmt"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/directory/phonebook"
	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// staticBooks serves one book for every organisation.
type staticBooks struct{ b *phonebook.Book }

func (s staticBooks) Book(context.Context, string) (*phonebook.Book, error) { return s.b, nil }

// BenchmarkBookSearch100k profiles one Poly-style search (as
// BenchmarkSearch100k sends it) against a server answering from a generated
// book of 100 000 entries, without PostgreSQL: one client, one search at a
// time, next to the book's name query alone (query-…), in the same run.
// cpu-us/op is the process CPU time per search, the client's included.
func BenchmarkBookSearch100k(b *testing.B) {
	var fs []directory.Folder
	for s := 0; s < 20; s++ {
		fs = append(fs, directory.Folder{ID: fmt.Sprintf("f%02d", s), Name: fmt.Sprintf("Site%02d", s)})
	}
	es := make([]directory.Entry, 100000)
	for g := range es {
		f := fs[g%20].ID
		es[g] = directory.Entry{ID: fmt.Sprintf("%08d", g), FolderID: &f, Kind: directory.KindPerson,
			DisplayName: fmt.Sprintf("%s %s%d", benchFirst[g%12], benchLast[(g/12)%13], g/156),
			Addresses: []directory.Address{{Kind: directory.AddressSIP, Value: fmt.Sprintf("u%d@video.example", g)},
				{Kind: directory.AddressTel, Label: "phone", Value: fmt.Sprintf("+4721%06d", g)}}}
	}
	book := phonebook.NewBook(fs, es)
	auth := AuthenticatorFunc(func(context.Context, string, string) (Scope, error) { return Scope{OrganisationID: "org"}, nil })
	srv := startServer(b, Config{}, Options{Books: staticBooks{book}, Authenticator: auth})
	c, err := ldap.DialURL("ldap://" + srv.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind("cn=bench", "token"); err != nil {
		b.Fatal(err)
	}
	var texts []string
	for i := 0; i < 64; i++ {
		texts = append(texts, fmt.Sprintf("%s%d", benchLast[i%len(benchLast)], 10+i*7%90))
	}
	b.Run("ldap", func(b *testing.B) {
		i := 0
		cpu0 := benchtab.ProcessCPU()
		for b.Loop() {
			x := ldap.EscapeFilter(texts[i%len(texts)])
			filter := fmt.Sprintf("(&(objectClass=inetOrgPerson)(|(displayName=%[1]s*)(givenName=%[1]s*)(sn=%[1]s*)(cn=%[1]s*)))", x)
			sr, err := c.Search(ldap.NewSearchRequest(DefaultBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 200, 0, false,
				filter, []string{"displayName", "telephoneNumber", "SIPIdentitySIPURI"}, nil))
			if err != nil || len(sr.Entries) == 0 {
				b.Fatalf("%s: %v, %d entries", filter, err, len(sr.Entries))
			}
			i++
		}
		b.ReportMetric(float64((benchtab.ProcessCPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
	})
	// A number: no name narrows it, so every entry is evaluated.
	b.Run("ldap-number", func(b *testing.B) {
		i := 0
		cpu0 := benchtab.ProcessCPU()
		for b.Loop() {
			filter := fmt.Sprintf("(&(objectClass=inetOrgPerson)(telephoneNumber=+4721%06d))", i*7919%100000)
			sr, err := c.Search(ldap.NewSearchRequest(DefaultBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 200, 0, false,
				filter, []string{"displayName", "telephoneNumber"}, nil))
			if err != nil || len(sr.Entries) != 1 {
				b.Fatalf("%s: %v", filter, err)
			}
			i++
		}
		b.ReportMetric(float64((benchtab.ProcessCPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
	})
	b.Run("query", func(b *testing.B) {
		i := 0
		v := book.View("", "")
		cpu0 := benchtab.ProcessCPU()
		for b.Loop() {
			v.Search(phonebook.Query{Text: texts[i%len(texts)], Limit: 200})
			i++
		}
		b.ReportMetric(float64((benchtab.ProcessCPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
	})
}
