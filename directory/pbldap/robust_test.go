package pbldap

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/bifrost-video/bifrost/directory"
)

// bindPacket and searchPacket build requests as clients send them.
func bindPacket(id int64, version int64, name, password string) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationBindRequest, nil, "")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, version, ""))
	op.AppendChild(octets(name))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, password, ""))
	return envelope(id, op).Bytes()
}

func searchPacket(id int64, base, filter string, controls ...ldap.Control) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchRequest, nil, "")
	op.AppendChild(octets(base))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 2, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 200, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, ""))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, ""))
	f, err := ldap.CompileFilter(filter)
	if err != nil {
		panic(err)
	}
	op.AppendChild(f)
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	attrs.AppendChild(octets("displayName"))
	op.AppendChild(attrs)
	return envelope(id, op, controls...).Bytes()
}

// nestedNots is a filter of n nested NOTs around (cn=x).
func nestedNots(n int) string {
	return strings.Repeat("(!", n) + "(cn=x)" + strings.Repeat(")", n)
}

// TestMalformedInput sends broken requests over TCP. Each gets an LDAP
// answer or a notice of disconnection, and the server keeps serving.
func TestMalformedInput(t *testing.T) {
	srv := startServer(t, Config{}, Options{Directory: smallDir(), Authenticator: acceptToken})
	addr := srv.Addr().String()
	unknownOp := envelope(1, ber.Encode(ber.ClassApplication, ber.TypeConstructed, 30, nil, "")).Bytes()
	badFilter := searchPacket(2, DefaultBaseDN, "(cn=x)")
	// Turn the equality filter's tag (context 3, 0xa3) into the undefined 10.
	badFilter = bytes.Replace(badFilter, []byte{0xa3}, []byte{0xaa}, 1)
	for _, tc := range []struct {
		name string
		send []byte
		// want is a result code the answer must carry (-1: only a notice
		// of disconnection and the end of the connection).
		want int
	}{
		{"HTTP instead of LDAP", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), -1},
		{"a length of 2 GiB", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01}, -1},
		{"the indefinite length form", []byte{0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00}, -1},
		{"a message cut short", bindPacket(1, 3, "cn=x", "token")[:10], -1},
		{"an unknown operation", unknownOp, -1},
		{"an envelope without an operation", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, -1},
		{"LDAPv2", bindPacket(1, 2, "cn=x", "token"), ldap.LDAPResultProtocolError},
		{"an undefined filter choice", append(bindPacket(1, 3, "cn=x", "token"), badFilter...), ldap.LDAPResultProtocolError},
		{"a filter nested too deep", append(bindPacket(1, 3, "cn=x", "token"), searchPacket(2, DefaultBaseDN, nestedNots(100))...), ldap.LDAPResultAdminLimitExceeded},
		{"a critical control the server does not know", append(bindPacket(1, 3, "cn=x", "token"),
			searchPacket(2, DefaultBaseDN, "(cn=*)", &ldap.ControlString{ControlType: "1.2.840.113556.1.4.473", Criticality: true})...),
			ldap.LDAPResultUnavailableCriticalExtension},
		{"a paging cookie that was never issued", append(bindPacket(1, 3, "cn=x", "token"),
			searchPacket(2, DefaultBaseDN, "(cn=*)", &ldap.ControlPaging{PagingSize: 2, Cookie: []byte("forged")})...),
			ldap.LDAPResultUnwillingToPerform},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			// A guard against a server that never answers, not a timing.
			_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
			if _, err := nc.Write(tc.send); err != nil {
				t.Fatal(err)
			}
			_ = nc.(*net.TCPConn).CloseWrite()
			codes := readResponses(t, nc)
			if tc.want == -1 {
				if len(codes) > 1 || len(codes) == 1 && codes[0] != -2 {
					t.Errorf("responses %v: want nothing or a notice of disconnection", codes)
				}
				return
			}
			if len(codes) == 0 || codes[len(codes)-1] != tc.want {
				t.Errorf("result codes %v, last want %d", codes, tc.want)
			}
		})
	}
	// The server still serves.
	c := dial(t, "ldap://"+addr)
	if err := c.Bind("cn=x", "token"); err != nil {
		t.Fatal(err)
	}
	sr, err := search(c, DefaultBaseDN, ldap.ScopeWholeSubtree, "(cn=*berg*)", "displayName")
	if err != nil || len(sr.Entries) != 2 {
		t.Fatalf("after malformed input: %v", err)
	}
}

// readResponses reads LDAP responses until the connection ends and returns
// their result codes; -2 stands for a notice of disconnection.
func readResponses(t *testing.T, nc net.Conn) []int {
	t.Helper()
	var codes []int
	r := bufio.NewReader(nc)
	for {
		p, err := ber.ReadPacket(r)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || err != nil && strings.Contains(err.Error(), "reset") {
			return codes
		}
		if err != nil {
			t.Fatalf("reading responses: %v", err)
		}
		m, err := parseMessage(p)
		if err != nil {
			t.Fatalf("response does not parse: %v", err)
		}
		if m.op.Tag == ldap.ApplicationSearchResultEntry {
			continue
		}
		code, _ := intOf(m.op.Children[0])
		if m.id == 0 {
			code = -2
		}
		codes = append(codes, int(code))
	}
}

// TestTimeLimit: a search whose directory does not answer in the time limit
// ends with timeLimitExceeded.
func TestTimeLimit(t *testing.T) {
	d := smallDir()
	d.search = func(ctx context.Context, _ string, _ directory.Query) (directory.Page, error) {
		<-ctx.Done()
		return directory.Page{}, ctx.Err()
	}
	srv := startServer(t, Config{}, Options{Directory: d, Authenticator: acceptToken})
	c := dial(t, "ldap://"+srv.Addr().String())
	if err := c.Bind("cn=x", "token"); err != nil {
		t.Fatal(err)
	}
	_, err := c.Search(ldap.NewSearchRequest(DefaultBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 1, false,
		"(cn=*)", nil, nil))
	if resultCode(err) != ldap.LDAPResultTimeLimitExceeded {
		t.Errorf("search: %v, want timeLimitExceeded", err)
	}
}

// TestClose: Close ends open connections with a notice, waits, and may be
// called again.
func TestClose(t *testing.T) {
	srv, err := New(Config{Listen: "127.0.0.1:0"}, Options{Directory: smallDir(), Authenticator: acceptToken})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start: %v", err)
	}
	nc, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write(bindPacket(1, 3, "cn=x", "token")); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(nc)
	if _, err := ber.ReadPacket(r); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	p, err := ber.ReadPacket(r)
	if err != nil {
		t.Fatalf("no notice of disconnection: %v", err)
	}
	if m, err := parseMessage(p); err != nil || m.id != 0 {
		t.Errorf("after Close: %v %+v", err, m)
	}
	if _, err := ber.ReadPacket(r); err == nil {
		t.Error("the connection stays open after Close")
	}
	srv.Close()
	if _, err := net.Dial("tcp", srv.Addr().String()); err == nil {
		t.Error("still listening after Close")
	}
}

// seedFilters are the filters of polycom/ldap-queries-small.tsv and a few more.
func seedFilters(t testing.TB) []string {
	out := []string{"(objectClass=*)", "(!(cn=a*b*c))", "(cn~=x)", "(cn>=a)", "(cn:dn:2.5.13.2:=x)", "(telephoneNumber=+47 21-99)",
		"(|(displayName=*\\2a*)(sn=\\29\\28))", "(&)", "(|)"}
	b, err := os.ReadFile(filepath.Join(fixtureDir, "polycom", "ldap-queries-small.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if c := strings.Split(line, "\t"); len(c) > 3 && strings.HasPrefix(c[3], "(") {
			out = append(out, c[3])
		}
	}
	return out
}

// FuzzFilter: any filter a client can send parses or is refused, evaluates
// without a panic, and its string form (the request log's) means the same.
func FuzzFilter(f *testing.F) {
	for _, s := range seedFilters(f) {
		f.Add(s)
	}
	d := smallDir()
	var entries []*ldapEntry
	for i := range d.entries {
		entries = append(entries, personEntry("uid="+d.entries[i].ID+","+DefaultBaseDN, &d.entries[i]))
	}
	entries = append(entries, folderEntry("ou=Oslo,"+DefaultBaseDN, "Oslo"))
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ldap.CompileFilter(s)
		if err != nil {
			return
		}
		flt, err := parseFilter(p)
		if err != nil {
			return
		}
		again, err := ldap.CompileFilter(flt.String())
		if err == nil {
			var flt2 *filter
			if flt2, err = parseFilter(again); err == nil {
				for _, e := range entries {
					if flt.matches(e) != flt2.matches(e) {
						t.Fatalf("%q and its string form %q disagree on %s", s, flt.String(), e.dn)
					}
				}
			}
		}
		// RFC 4515's extensible form is ambiguous for a rule named "dn"
		// (":dn:=x"): only there may the string form not read back.
		if err != nil && !strings.Contains(strings.ToLower(flt.String()), ":dn:") {
			t.Fatalf("string form %q of %q does not read back: %v", flt.String(), s, err)
		}
		text := flt.narrowText()
		for _, e := range entries {
			m := flt.matches(e)
			// Narrowing never loses a match: the text is in what the store
			// searches.
			if m && text != "" && !strings.Contains(storeText(e), strings.ToLower(text)) {
				t.Fatalf("%q matches %s but narrows to %q, not in %q", s, e.dn, text, storeText(e))
			}
		}
	})
}

// FuzzMessages: any bytes a client sends are answered or end the connection;
// nothing panics.
func FuzzMessages(f *testing.F) {
	bind := bindPacket(1, 3, "cn=x", "token")
	for i, s := range seedFilters(f) {
		f.Add(append(bind, searchPacket(int64(i+2), DefaultBaseDN, s, ldap.NewControlPaging(2))...))
	}
	f.Add(bind[:7])
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})
	srv, err := New(Config{}, Options{Directory: smallDir(), Authenticator: acceptToken})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c := newConn(srv, &bytesConn{r: bytes.NewReader(b)})
		c.loop(context.Background())
	})
}

// storeText approximates the text directory.Store.Search matches for an
// entry (without accent folding): name, SIP and H.323 addresses without
// scheme, numbers as digits.
func storeText(e *ldapEntry) string {
	parts := slices.Clone(e.get(atCN))
	for _, v := range e.get(atSIPURI) {
		_, user := sipURI(v)
		parts = append(parts, user)
	}
	parts = append(parts, e.get(atH323ID)...)
	for _, v := range slices.Concat(e.get(atTelephoneNumber), e.get(atMobile), e.get(atH323Digits)) {
		parts = append(parts, strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' || r == '+' {
				return r
			}
			return -1
		}, v))
	}
	return strings.ToLower(strings.Join(parts, " "))
}
