package pbldap

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// dial connects a go-ldap client, closed when the test ends.
func dial(t *testing.T, url string) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func bound(t *testing.T, url, token string) *ldap.Conn {
	t.Helper()
	c := dial(t, url)
	if err := c.Bind("cn=endpoint", token); err != nil {
		t.Fatalf("bind: %v", err)
	}
	return c
}

func resultCode(err error) uint16 {
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode
	}
	if err == nil {
		return ldap.LDAPResultSuccess
	}
	return 0xffff
}

func displayNames(es []*ldap.Entry) []string {
	var out []string
	for _, e := range es {
		if n := e.GetAttributeValue("displayName"); n != "" {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out
}

func search(c *ldap.Conn, base string, scope int, filter string, attrs ...string) (*ldap.SearchResult, error) {
	return c.Search(ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil))
}

func TestBind(t *testing.T) {
	f := newFixture(t)
	t.Run("a wrong token is invalidCredentials", func(t *testing.T) {
		res := ldapsearch(t, f.url, "-D", "cn=endpoint", "-w", "not-a-token", "-b", DefaultBaseDN, "(objectClass=*)")
		if res.code != ldap.LDAPResultInvalidCredentials || len(res.entries) != 0 {
			t.Errorf("code %d, %d entries; want 49 and none", res.code, len(res.entries))
		}
	})
	t.Run("an anonymous bind is invalidCredentials", func(t *testing.T) {
		res := ldapsearch(t, f.url, "-b", DefaultBaseDN, "(objectClass=*)")
		if res.code != ldap.LDAPResultInvalidCredentials || len(res.entries) != 0 {
			t.Errorf("code %d, %d entries; want 49 and none", res.code, len(res.entries))
		}
	})
	t.Run("a name without a password is invalidCredentials", func(t *testing.T) {
		c := dial(t, f.url)
		if err := c.UnauthenticatedBind("cn=endpoint"); resultCode(err) != ldap.LDAPResultInvalidCredentials {
			t.Errorf("unauthenticated bind: %v", err)
		}
	})
	t.Run("a search without a bind is refused", func(t *testing.T) {
		c := dial(t, f.url)
		_, err := search(c, DefaultBaseDN, ldap.ScopeWholeSubtree, "(objectClass=*)")
		if resultCode(err) != ldap.LDAPResultInsufficientAccessRights {
			t.Errorf("search without bind: %v", err)
		}
	})
	t.Run("a failed bind drops what an earlier bind granted", func(t *testing.T) {
		c := bound(t, f.url, tokenA)
		if err := c.Bind("cn=endpoint", "wrong"); resultCode(err) != ldap.LDAPResultInvalidCredentials {
			t.Fatalf("second bind: %v", err)
		}
		_, err := search(c, DefaultBaseDN, ldap.ScopeWholeSubtree, "(objectClass=*)")
		if resultCode(err) != ldap.LDAPResultInsufficientAccessRights {
			t.Errorf("search after failed bind: %v", err)
		}
	})
	t.Run("the root DSE is readable before a bind", func(t *testing.T) {
		res := ldapsearch(t, f.url, "-b", "", "-s", "base", "(objectClass=*)", "namingContexts", "supportedControl")
		// ldapsearch's anonymous bind fails first; read it with go-ldap.
		_ = res
		c := dial(t, f.url)
		sr, err := search(c, "", ldap.ScopeBaseObject, "(objectClass=*)", "namingContexts", "supportedControl")
		if err != nil || len(sr.Entries) != 1 {
			t.Fatalf("root DSE: %v", err)
		}
		if got := sr.Entries[0].GetAttributeValue("namingContexts"); got != DefaultBaseDN {
			t.Errorf("namingContexts %q", got)
		}
		if got := sr.Entries[0].GetAttributeValues("supportedControl"); !slices.Contains(got, ldap.ControlTypePaging) {
			t.Errorf("supportedControl %q lacks paging", got)
		}
	})
	t.Run("writes are refused", func(t *testing.T) {
		c := bound(t, f.url, tokenA)
		err := c.Del(ldap.NewDelRequest("uid=x,"+DefaultBaseDN, nil))
		if resultCode(err) != ldap.LDAPResultUnwillingToPerform {
			t.Errorf("delete: %v", err)
		}
		add := ldap.NewAddRequest("uid=x,"+DefaultBaseDN, nil)
		add.Attribute("objectClass", []string{"inetOrgPerson"})
		if err := c.Add(add); resultCode(err) != ldap.LDAPResultUnwillingToPerform {
			t.Errorf("add: %v", err)
		}
	})
	t.Run("WhoAmI names the bind", func(t *testing.T) {
		c := bound(t, f.url, tokenA)
		r, err := c.WhoAmI(nil)
		if err != nil || r.AuthzID != "dn:cn=endpoint" {
			t.Errorf("whoami: %+v, %v", r, err)
		}
	})
}

func TestOrganisationsAreSeparate(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		token string
		want  []string
		never []string
	}{
		{tokenA, nil, []string{"Bergljot Secret", "Berit Unpublished"}},
		{tokenB, []string{"Bergljot Secret"}, []string{"Anne Berg", "Berit Unpublished"}},
	} {
		c := bound(t, f.url, tc.token)
		for _, filter := range []string{"(objectClass=*)", "(cn=*berg*)", "(|(cn=ber*)(sn=ber*))", "(!(cn=nobody))"} {
			sr, err := search(c, DefaultBaseDN, ldap.ScopeWholeSubtree, filter, "displayName")
			if err != nil {
				t.Fatalf("%s %s: %v", tc.token, filter, err)
			}
			names := displayNames(sr.Entries)
			for _, n := range tc.never {
				if slices.Contains(names, n) {
					t.Errorf("%s %s: sees %q of another organisation (or unpublished)", tc.token, filter, n)
				}
			}
			if tc.want != nil && filter != "(cn=*berg*)" && !slices.Equal(names, tc.want) {
				t.Errorf("%s %s: %q, want %q", tc.token, filter, names, tc.want)
			}
		}
	}
	// A DN of the other organisation's entry names nothing.
	var idB string
	if err := f.db.Get(&idB, `SELECT id FROM directory_entries WHERE organisation_id = $1 AND display_name = 'Bergljot Secret'`, f.orgB); err != nil {
		t.Fatal(err)
	}
	c := bound(t, f.url, tokenA)
	_, err := search(c, "uid="+idB+","+DefaultBaseDN, ldap.ScopeBaseObject, "(objectClass=*)")
	if resultCode(err) != ldap.LDAPResultNoSuchObject {
		t.Errorf("org A reading org B's entry by DN: %v", err)
	}
}

func TestFolderScopeOfAToken(t *testing.T) {
	f := newFixture(t)
	c := bound(t, f.url, tokenAOslo)
	sr, err := search(c, DefaultBaseDN, ldap.ScopeWholeSubtree, "(objectClass=inetOrgPerson)", "displayName")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Anne Berg", "Berg, Marius", "Bjørn Østby", "Ingrid Solberg", "Kari Nordmann (vikar)", "Thomas O'Brien"}
	if got := displayNames(sr.Entries); !slices.Equal(got, want) {
		t.Errorf("Oslo token sees %q, want %q", got, want)
	}
	for _, e := range sr.Entries {
		if rdn, ok := strings.CutSuffix(e.DN, ","+DefaultBaseDN); !ok || strings.Contains(rdn, ",") {
			t.Errorf("DN %q: the scope's folder is the base DN", e.DN)
		}
	}
	if _, err := search(c, "ou=Bergen,ou=People,"+DefaultBaseDN, ldap.ScopeWholeSubtree, "(objectClass=*)"); resultCode(err) != ldap.LDAPResultNoSuchObject {
		t.Errorf("a folder outside the scope: %v", err)
	}
}

func TestTreeAndScopes(t *testing.T) {
	f := newFixture(t)
	c := bound(t, f.url, tokenA)
	dns := func(base string, scope int, filter string) []string {
		t.Helper()
		sr, err := search(c, base, scope, filter, "1.1")
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		var out []string
		for _, e := range sr.Entries {
			if len(e.Attributes) != 0 {
				t.Errorf("1.1 returned attributes for %s", e.DN)
			}
			out = append(out, e.DN)
		}
		sort.Strings(out)
		return out
	}
	if got, want := dns(DefaultBaseDN, ldap.ScopeSingleLevel, "(objectClass=*)"),
		[]string{"ou=People," + DefaultBaseDN, "ou=Rooms," + DefaultBaseDN}; !slices.Equal(got, want) {
		t.Errorf("one level at the base: %q, want %q", got, want)
	}
	if got := dns(DefaultBaseDN, ldap.ScopeBaseObject, "(objectClass=*)"); !slices.Equal(got, []string{DefaultBaseDN}) {
		t.Errorf("base: %q", got)
	}
	rooms := dns("ou=Rooms,"+DefaultBaseDN, ldap.ScopeSingleLevel, "(objectClass=*)")
	// Rooms holds Allmøte and the folders Bergen, Oslo, Tromsø.
	if len(rooms) != 4 || !slices.Contains(rooms, "ou=Oslo,ou=Rooms,"+DefaultBaseDN) {
		t.Errorf("one level in Rooms: %q", rooms)
	}
	if got := dns("OU=rooms,"+strings.ToUpper(DefaultBaseDN), ldap.ScopeWholeSubtree, "(objectClass=inetOrgPerson)"); len(got) != 5 {
		t.Errorf("DNs are case-insensitive: subtree of Rooms has %d entries, want 5", len(got))
	}
	// An entry's DN reads the entry.
	sr, err := search(c, DefaultBaseDN, ldap.ScopeWholeSubtree, "(displayName=Anne Berg)")
	if err != nil || len(sr.Entries) != 1 {
		t.Fatalf("Anne Berg: %v", err)
	}
	anne := sr.Entries[0]
	got, err := search(c, anne.DN, ldap.ScopeBaseObject, "(objectClass=*)")
	if err != nil || len(got.Entries) != 1 || got.Entries[0].DN != anne.DN {
		t.Errorf("base search of %s: %v", anne.DN, err)
	}
	for attr, want := range map[string][]string{
		"cn": {"Anne Berg"}, "sn": {"Berg"}, "givenName": {"Anne"},
		"mail":                {"anne.berg@video.nordfjord.example"},
		"telephoneNumber":     {"+47 21 99 10 01"},
		"mobile":              {"+47 900 10 001"},
		"SIPIdentitySIPURI":   {"sip:anne.berg@video.nordfjord.example"},
		"h323Identityh323-ID": {"anne.berg"},
		"commURI":             {"sip:anne.berg@video.nordfjord.example", "h323:anne.berg"},
		"objectClass":         {"top", "person", "organizationalPerson", "inetOrgPerson", "commObject", "SIPIdentity", "h323Identity"},
	} {
		if got := anne.GetAttributeValues(attr); !slices.Equal(got, want) {
			t.Errorf("Anne Berg's %s: %q, want %q", attr, got, want)
		}
	}
	if _, err := search(c, "ou=Nowhere,"+DefaultBaseDN, ldap.ScopeWholeSubtree, "(objectClass=*)"); resultCode(err) != ldap.LDAPResultNoSuchObject {
		t.Errorf("unknown folder: %v", err)
	}
	if _, err := search(c, "dc=example", ldap.ScopeWholeSubtree, "(objectClass=*)"); resultCode(err) != ldap.LDAPResultNoSuchObject {
		t.Errorf("DN outside the base: %v", err)
	}
	if _, err := search(c, "this is not a DN", ldap.ScopeWholeSubtree, "(objectClass=*)"); resultCode(err) != ldap.LDAPResultInvalidDNSyntax {
		t.Errorf("bad DN: %v", err)
	}
}

func TestFiltersTheSpecDoesNotList(t *testing.T) {
	f := newFixture(t)
	c := bound(t, f.url, tokenA)
	for _, tc := range []struct {
		filter string
		want   int
	}{
		{"(cn>=A)", 0},                        // no ordering rule: Undefined
		{"(cn<=Z)", 0},                        // likewise
		{"(cn:caseExactMatch:=Anne Berg)", 0}, // extensible rules: Undefined
		{"(cn~=anne berg)", 1},                // approx is equality
		{"(!(cn>=A))", 0},                     // NOT Undefined is Undefined
		{"(unknownAttr=x)", 0},
		{"(&(objectClass=inetOrgPerson)(!(telephoneNumber=*)))", 3}, // Allmøte, R&D Lab, Zhang Wei
		{"(mobile=+4790010001)", 1},
		{"(sn=Berg)", 2}, // Anne Berg and "Berg, Marius"
		{"(givenName=marius)", 1},
		{"(cn=*\\2a*)", 0}, // a literal * is text
		{"(cn=*O'Brien*)", 1},
	} {
		sr, err := search(c, DefaultBaseDN, ldap.ScopeWholeSubtree, tc.filter, "displayName")
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if len(sr.Entries) != tc.want {
			t.Errorf("%s: %d entries %q, want %d", tc.filter, len(sr.Entries), displayNames(sr.Entries), tc.want)
		}
	}
}

func TestPaging(t *testing.T) {
	f := newFixture(t)
	c := bound(t, f.url, tokenA)
	req := ldap.NewSearchRequest(DefaultBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=inetOrgPerson)", []string{"displayName"}, nil)
	sr, err := c.SearchWithPaging(req, 3)
	if err != nil {
		t.Fatal(err)
	}
	names := displayNames(sr.Entries)
	want := publishedNames(t)
	sort.Slice(want, func(i, j int) bool { return strings.ToLower(want[i]) < strings.ToLower(want[j]) })
	if !slices.Equal(names, want) {
		t.Errorf("paged by 3: %q\nwant %q", names, want)
	}
	t.Run("with ldapsearch", func(t *testing.T) {
		res := ldapsearch(t, f.url, "-D", "cn=x", "-w", tokenA, "-b", DefaultBaseDN, "-E", "pr=4/noprompt", "(objectClass=*)", "displayName")
		// 19 entries and the folders (base, People, Rooms and their 8 sub-OUs).
		if res.code != 0 || len(res.names()) != 19 || len(res.entries) != 19+1+2+8 {
			t.Errorf("code %d, %d entries, %d names", res.code, len(res.entries), len(res.names()))
		}
	})
	t.Run("a cookie of another search is refused", func(t *testing.T) {
		pc := ldap.NewControlPaging(2)
		first, err := c.Search(ldap.NewSearchRequest(DefaultBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=inetOrgPerson)", []string{"cn"}, []ldap.Control{pc}))
		if err != nil {
			t.Fatal(err)
		}
		cookie := ldap.FindControl(first.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging).Cookie
		if len(cookie) == 0 {
			t.Fatal("no cookie after the first page")
		}
		other := ldap.NewControlPaging(2)
		other.SetCookie(cookie)
		_, err = c.Search(ldap.NewSearchRequest(DefaultBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			"(cn=*)", []string{"cn"}, []ldap.Control{other}))
		if resultCode(err) != ldap.LDAPResultUnwillingToPerform {
			t.Errorf("foreign cookie: %v", err)
		}
	})
	t.Run("the server's limit caps a page, not the paged search", func(t *testing.T) {
		srv := startServer(t, Config{MaxResults: 5}, Options{Books: f.books, Authenticator: f.srv.auth})
		url := "ldap://" + srv.Addr().String()
		res := ldapsearch(t, url, "-D", "cn=x", "-w", tokenA, "-b", DefaultBaseDN, "(objectClass=inetOrgPerson)", "displayName")
		if res.code != ldap.LDAPResultSizeLimitExceeded || len(res.entries) != 5 {
			t.Errorf("unpaged: code %d with %d entries, want 4 with 5", res.code, len(res.entries))
		}
		res = ldapsearch(t, url, "-D", "cn=x", "-w", tokenA, "-b", DefaultBaseDN, "-E", "pr=100/noprompt", "(objectClass=inetOrgPerson)", "displayName")
		if res.code != 0 || len(res.entries) != 19 {
			t.Errorf("paged by 100 with server limit 5: code %d with %d entries, want 0 with 19", res.code, len(res.entries))
		}
	})
}

func TestRequestLog(t *testing.T) {
	f := newFixture(t)
	ldapsearch(t, f.url, "-D", "cn=Meeting Room 1", "-w", tokenA, "-b", DefaultBaseDN, "(cn=*berg*)", "cn")
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.logs) != 1 {
		t.Fatalf("%d log records, want 1", len(f.logs))
	}
	l := f.logs[0]
	if l.Protocol != "ldap" || l.OrganisationID != f.orgA || l.TokenID != "a" || l.ClientIP != "127.0.0.1" ||
		l.BindDN != "cn=Meeting Room 1" || l.Filter != "(cn=*berg*)" || l.Results != 6 || l.Scope != "sub" {
		t.Errorf("log record %+v", l)
	}
}
