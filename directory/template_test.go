package directory

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

type attrMap map[string][]string

func (m attrMap) Values(n string) []string { return m[n] }

func TestTemplateEval(t *testing.T) {
	attrs := attrMap{
		"displayname":     {"Anne Berg"},
		"samaccountname":  {"aberg"},
		"labeleduri":      {"sip:anne.berg@video.nordfjord.example SIP", "h323:anne.berg H323", "https://intranet.example/anne"},
		"mail":            {"anne@test.example"},
		"telephonenumber": {"+47 21 99 10 01"},
	}
	tests := []struct {
		name, tmpl string
		want       []string
		missing    []string
	}{
		{"an attribute alone gives its value", "$displayName$", []string{"Anne Berg"}, nil},
		{"literal text mixes with an attribute", "$sAMAccountName$@video.example", []string{"aberg@video.example"}, nil},
		{"attribute names are case-insensitive", "$DISPLAYNAME$", []string{"Anne Berg"}, nil},
		{"a scheme picks the URIs with that scheme without it", "$labeledURI:sip$", []string{"anne.berg@video.nordfjord.example"}, nil},
		{"the scheme match ignores case", "$labeledURI:H323$", []string{"anne.berg"}, nil},
		{"a scheme no value has gives nothing", "$labeledURI:tel$", nil, []string{"labeledURI:tel"}},
		{"a missing attribute gives nothing and is reported", "x$mobile$", nil, []string{"mobile"}},
		{"a substitution rewrites the value", "$mail|'/@test/@xmpp/'$", []string{"anne@xmpp.example"}, nil},
		{"back-references work in a substitution", `$mail|'/^([a-z]+)@.*/\1@video.example/'$`, []string{"anne@video.example"}, nil},
		{"a global substitution rewrites every match", "$telephoneNumber|'/ //g'$", []string{"+4721991001"}, nil},
		{"two dollars are a literal dollar", "$$ $displayName$", []string{"$ Anne Berg"}, nil},
		{"a literal-only template gives itself", "person", []string{"person"}, nil},
		{"the empty template gives nothing", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := ParseTemplate(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			got, missing := tm.Eval(attrs)
			if !reflect.DeepEqual(got, tt.want) || !reflect.DeepEqual(missing, tt.missing) {
				t.Errorf("Eval(%q) = %q, missing %q; want %q, missing %q", tt.tmpl, got, missing, tt.want, tt.missing)
			}
		})
	}
}

func TestTemplateParseErrorsHaveAPosition(t *testing.T) {
	tests := []struct {
		tmpl string
		pos  int
		msg  string
	}{
		{"$displayName", 0, "missing closing $"},
		{"name: $", 6, "missing closing $"},
		{"$ $", 1, "expected an attribute name"},
		{"$labeledURI:$", 12, "URI scheme"},
		{"$cn!$", 3, "unexpected '!'"},
		{"$mail|/a/b/$", 6, "quoted substitution"},
		{"$mail|'/a/b/x'$", 12, "unknown substitution flag"},
		{"$mail|'/(/b/'$", 8, "bad pattern"},
		{"$mail|'/a/b$", 6, "unterminated substitution"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			_, err := ParseTemplate(tt.tmpl)
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("ParseTemplate(%q) = %v, want a *TemplateError", tt.tmpl, err)
			}
			if te.Pos != tt.pos || !strings.Contains(te.Msg, tt.msg) {
				t.Errorf("ParseTemplate(%q): position %d %q, want position %d containing %q", tt.tmpl, te.Pos, te.Msg, tt.pos, tt.msg)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("a template error should match ErrInvalid")
			}
		})
	}
}

func TestMappingCompileRejectsUnknownFieldsAndBadTemplates(t *testing.T) {
	if _, err := DefaultMapping().Compile(); err != nil {
		t.Fatalf("default mapping: %v", err)
	}
	if _, err := ActiveDirectoryMapping().Compile(); err != nil {
		t.Fatalf("AD mapping: %v", err)
	}
	if _, err := (Mapping{"name": "$cn$", "email": "$mail$"}).Compile(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "email") {
		t.Errorf("unknown field: %v", err)
	}
	_, err := (Mapping{"name": "$cn$", "sip": "$mail"}).Compile()
	var te *TemplateError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "field sip") {
		t.Errorf("bad template: %v", err)
	}
	if _, err := (Mapping{"name": ""}).Compile(); !errors.Is(err, ErrInvalid) {
		t.Errorf("no name: %v", err)
	}
}

func TestValidateFilter(t *testing.T) {
	for _, f := range []string{
		"(&(objectClass=inetOrgPerson)(labeledURI=*))",
		"(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
		`(displayName=*\28vikar\29*)`,
	} {
		if err := ValidateFilter(f); err != nil {
			t.Errorf("ValidateFilter(%q) = %v, want nil", f, err)
		}
	}
	for _, f := range []string{"", "objectClass=person", "(&(cn=a)", "(cn=a))", "(cn=a)(cn=b)"} {
		if err := ValidateFilter(f); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateFilter(%q) = %v, want ErrInvalid", f, err)
		}
	}
}

func TestSearchFilterEscapesUserText(t *testing.T) {
	got := SearchFilter("(objectClass=inetOrgPerson)", "displayName", "*)(uid=*")
	if err := ValidateFilter(got); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if want := `(&(objectClass=inetOrgPerson)(displayName=*\2a\29\28uid=\2a*))`; got != want {
		t.Errorf("SearchFilter = %s, want %s", got, want)
	}
}

// FuzzParseTemplate: a template an admin types never crashes the parser, and
// one that parses evaluates without panicking.
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"$displayName$", "$sAMAccountName$@video.example", "$labeledURI:sip$", "$mail|'/@test/@xmpp/g'$", "$$", "$", "$a|'/", "Rom $roomNumber$ ($l$)"} {
		f.Add(s)
	}
	for _, m := range []Mapping{DefaultMapping(), ActiveDirectoryMapping()} {
		for _, v := range m {
			f.Add(v)
		}
	}
	attrs := attrMap{"displayname": {"Anne"}, "labeleduri": {"sip:a@b SIP", "h323:x"}, "mail": {"a@test.example"}}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTemplate(s)
		if err != nil {
			var te *TemplateError
			if !errors.As(err, &te) || te.Pos < 0 || te.Pos > len(s) {
				t.Fatalf("ParseTemplate(%q) = %v: want a *TemplateError with a position inside", s, err)
			}
			return
		}
		out, _ := tm.Eval(attrs)
		if len(out) > maxTemplateResults {
			t.Fatalf("%d results", len(out))
		}
	})
}

// FuzzValidateFilter: an admin's filter never crashes validation, and the
// filter built around escaped user text always compiles.
func FuzzValidateFilter(f *testing.F) {
	f.Add("(&(objectClass=inetOrgPerson)(labeledURI=*))")
	if b, err := os.ReadFile(filepath.Join(fixtureDir, "polycom", "ldap-queries-small.tsv")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if cols := strings.Split(line, "\t"); len(cols) > 3 && strings.HasPrefix(cols[3], "(") {
				f.Add(cols[3])
			}
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = ValidateFilter(s)
		if err := ValidateFilter(SearchFilter("(objectClass=*)", "displayName", s)); err != nil {
			t.Fatalf("escaped search text %q gives a bad filter: %v", s, err)
		}
	})
}
