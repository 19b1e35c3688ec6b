package pbldap

import (
	"errors"
	"slices"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/bifrost-video/bifrost/directory"
)

func compile(t *testing.T, s string) *filter {
	t.Helper()
	p, err := ldap.CompileFilter(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	f, err := parseFilter(p)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return f
}

func TestFilterEvaluation(t *testing.T) {
	d := smallDir()
	anne := personEntry("uid=e1,ou=Oslo,"+DefaultBaseDN, &d.entries[0])
	marius := personEntry("uid=e2,ou=Oslo,"+DefaultBaseDN, &d.entries[1])
	hanne := personEntry("uid=e3,"+DefaultBaseDN, &d.entries[2])
	oslo := folderEntry("ou=Oslo,"+DefaultBaseDN, "Oslo")
	for _, tc := range []struct {
		filter string
		want   []*ldapEntry
	}{
		{"(objectClass=*)", []*ldapEntry{anne, marius, hanne, oslo}},
		{"(objectClass=inetOrgPerson)", []*ldapEntry{anne, marius, hanne}},
		{"(objectclass=ORGANIZATIONALUNIT)", []*ldapEntry{oslo}},
		{"(cn=anne berg)", []*ldapEntry{anne}},
		{"(cn=  ANNE   BERG )", []*ldapEntry{anne}},
		{"(cn=ann*)", []*ldapEntry{anne}},
		{"(cn=*BERG)", []*ldapEntry{anne}},
		{"(cn=*er*)", []*ldapEntry{anne, marius}},
		{"(cn=a*n*e*b*g)", []*ldapEntry{anne}},
		{"(cn=a*g*n)", nil},
		{"(displayName=*øvre*)", []*ldapEntry{hanne}},
		{"(displayName=*ØVRE*)", []*ldapEntry{hanne}},
		{"(sn=berg)", []*ldapEntry{anne, marius}},
		{"(givenName=Marius)", []*ldapEntry{marius}},
		{"(|(givenName=ber*)(sn=ber*))", []*ldapEntry{anne, marius}},
		{"(&(objectClass=inetOrgPerson)(!(cn=anne*)))", []*ldapEntry{marius, hanne}},
		{"(telephoneNumber=+4721991001)", []*ldapEntry{anne}},
		{"(telephoneNumber=*21 99-10*)", []*ldapEntry{anne}},
		{"(mobile=+4790010001)", []*ldapEntry{anne}},
		{"(mail=ANNE@x.example)", []*ldapEntry{anne}},
		{"(SIPIdentitySIPURI=sip:marius@x.example)", []*ldapEntry{marius}},
		{"(h323Identityh323-ID=anne.berg)", []*ldapEntry{anne}},
		{"(h323IdentitydialedDigits=4721991001)", []*ldapEntry{anne}},
		{"(commURI=h323:anne.berg)", []*ldapEntry{anne}},
		{"(labeledURI=sip:anne@x.example SIP)", []*ldapEntry{anne}},
		{"(labeledURI=SIP:anne@x.example SIP)", nil}, // caseExactMatch
		{"(labeledURI=sip:*)", nil},                  // no substrings rule: Undefined
		{"(!(labeledURI=sip:*))", nil},               // NOT Undefined is Undefined
		{"(labeledURI=*)", []*ldapEntry{anne, marius, hanne}},
		{"(title=engineer)", []*ldapEntry{anne}},
		{"(cn~=Anne Berg)", []*ldapEntry{anne}},
		{"(cn>=A)", nil},
		{"(cn<=Z)", nil},
		{"(cn:caseExactMatch:=Anne Berg)", nil},
		{"(noSuchAttribute=*)", nil},
		{"(!(noSuchAttribute=x))", nil},
		{"(|(noSuchAttribute=x)(cn=hanne*))", []*ldapEntry{hanne}},
		{"(&)", []*ldapEntry{anne, marius, hanne, oslo}},
		{"(|)", nil},
		{"(cn=\\2a)", nil},
		{"(uid=e2)", []*ldapEntry{marius}},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			f := compile(t, tc.filter)
			var got []*ldapEntry
			for _, e := range []*ldapEntry{anne, marius, hanne, oslo} {
				if f.matches(e) {
					got = append(got, e)
				}
			}
			if !slices.Equal(got, tc.want) {
				var names []string
				for _, e := range got {
					names = append(names, e.dn)
				}
				t.Errorf("matches %q", names)
			}
		})
	}
}

func TestNarrowText(t *testing.T) {
	for _, tc := range []struct{ filter, want string }{
		{"(&(objectClass=inetOrgPerson)(labeledURI=*)(|(displayName=ber*)(givenName=ber*)(sn=ber*)(cn=ber*)))", "ber"},
		{"(displayName=*berg*)", "berg"},
		{"(cn=Anne Berg)", "Anne"},
		{"(cn=a*longest*b)", "longest"},
		{"(|(cn=ber*)(cn=sol*))", ""},
		{"(|(cn=ber*)(title=ber*))", ""},
		{"(!(cn=ber*))", ""},
		{"(objectClass=*)", ""},
		{"(telephoneNumber=+47 21 99 10 01)", "+4721991001"},
		{"(telephoneNumber=ext 12)", ""},
		{"(mail=anne@x.example)", "anne@x.example"},
		{"(SIPIdentitySIPURI=sip:anne@x.example)", "anne@x.example"},
		{"(SIPIdentitySIPURI=*sip:anne*)", ""},
		{"(labeledURI=sip:anne@x.example SIP)", ""},
	} {
		if got := compile(t, tc.filter).narrowText(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.filter, got, tc.want)
		}
	}
}

func TestFilterStringForm(t *testing.T) {
	for _, s := range []string{"(&(cn=a\\2a\\28\\29\\5c*)(!(sn=x)))", "(|(cn~=x)(cn>=y)(cn<=z))", "(cn:dn:2.5.13.2:=x)",
		"(displayName=*Øvre*)", "(cn=tab\\09x)"} {
		if got := compile(t, s).String(); got != s {
			t.Errorf("%s: string form %s", s, got)
		}
	}
}

func TestFilterLimits(t *testing.T) {
	p, err := ldap.CompileFilter(nestedNots(maxFilterDepth + 5))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseFilter(p); !errors.Is(err, errFilterLimit) {
		t.Errorf("deep filter: %v", err)
	}
	if _, err := parseFilter(compileRaw(t, nestedNots(maxFilterDepth-1))); err != nil {
		t.Errorf("a filter within the depth limit: %v", err)
	}
}

func compileRaw(t *testing.T, s string) *ber.Packet {
	t.Helper()
	p, err := ldap.CompileFilter(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSplitName(t *testing.T) {
	for _, tc := range []struct {
		name      string
		kind      directory.Kind
		given, sn string
	}{
		{"Anne Berg", directory.KindPerson, "Anne", "Berg"},
		{"Berg, Marius", directory.KindPerson, "Marius", "Berg"},
		{"Inga Máret Eira", directory.KindPerson, "Inga Máret", "Eira"},
		{"Kari Nordmann (vikar)", directory.KindPerson, "Kari", "Nordmann"},
		{"张伟 (Zhang Wei)", directory.KindPerson, "", "张伟"},
		{"Thomas O'Brien", directory.KindPerson, "Thomas", "O'Brien"},
		{"Bergen – Bryggen", directory.KindRoom, "", "Bergen – Bryggen"},
		{"(odd)", directory.KindPerson, "", "(odd)"},
	} {
		if g, s := splitName(tc.name, tc.kind); g != tc.given || s != tc.sn {
			t.Errorf("%s: given %q sn %q, want %q %q", tc.name, g, s, tc.given, tc.sn)
		}
	}
}

// TestTypesOnlyAndAttributeSelection: typesOnly sends names without values;
// requested names are matched case-insensitively and by alias.
func TestTypesOnlyAndAttributeSelection(t *testing.T) {
	srv := startServer(t, Config{}, Options{Directory: smallDir(), Authenticator: acceptToken})
	c := dial(t, "ldap://"+srv.Addr().String())
	if err := c.Bind("cn=x", "token"); err != nil {
		t.Fatal(err)
	}
	sr, err := c.Search(ldap.NewSearchRequest(DefaultBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, true,
		"(cn=anne*)", []string{"DISPLAYNAME", "surname", "mobile", "noSuchAttribute"}, nil))
	if err != nil || len(sr.Entries) != 1 {
		t.Fatalf("search: %v", err)
	}
	var names []string
	for _, a := range sr.Entries[0].Attributes {
		names = append(names, a.Name)
		if len(a.Values) != 0 {
			t.Errorf("typesOnly: %s has values %q", a.Name, a.Values)
		}
	}
	if want := []string{"displayName", "sn", "mobile"}; !slices.Equal(names, want) {
		t.Errorf("attributes %q, want %q", names, want)
	}
	// A time limit far beyond the server's is the server's.
	if _, err := c.Search(ldap.NewSearchRequest(DefaultBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 1<<31-1, false,
		"(cn=anne*)", nil, nil)); err != nil {
		t.Errorf("huge time limit: %v", err)
	}
}
