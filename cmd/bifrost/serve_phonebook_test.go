package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/directory/phonebook"
)

// TestServePhonebookEndToEnd runs the binary: `bifrost phonebook create`
// prints a token, the running serve answers its TMS URL and logs the
// request, `bifrost phonebook revoke` cuts it off.
func TestServePhonebookEndToEnd(t *testing.T) {
	dir := dataDir(t)
	s := startServe(t, dir)
	m := regexp.MustCompile(`created organisation "([^"]+)"`).FindStringSubmatch(s.stdout.String())
	if m == nil {
		t.Fatalf("no organisation in the banner:\n%s", s.stdout.String())
	}
	org := m[1]
	out, err := bifrostCmd(dir, nil, "phonebook", "create", "--org", org, "--json").Output()
	if err != nil {
		t.Fatalf("phonebook create: %v\n%s", err, out)
	}
	var l phonebook.TokenLinks
	if err := json.Unmarshal(out, &l); err != nil || l.Token == "" || l.LDAP.Addr != "127.0.0.1:3890" {
		t.Fatalf("phonebook create --json: %v\n%s", err, out)
	}
	post := func() (int, string) {
		req, _ := http.NewRequest("POST", "http://"+s.httpAddr+"/pb/"+l.Token+phonebook.TMSPath, strings.NewReader(pbSearchBody))
		req.Header.Set("SOAPAction", `"`+phonebook.TMSNS+`Search"`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(); code != 200 || !strings.Contains(body, "<SearchResponse") {
		t.Fatalf("TMS Search on serve: %d %s", code, body)
	}
	if code, _ := s.get(t, "/pb/"+phonebook.TokenPrefix+"nope"+phonebook.TMSPath); code != http.StatusNotFound {
		t.Errorf("unknown token: %d", code)
	}
	out, err = bifrostCmd(dir, nil, "phonebook", "list", "--org", org, "--json").Output()
	var toks []phonebook.Token
	if err != nil || json.Unmarshal(out, &toks) != nil || len(toks) != 1 {
		t.Fatalf("phonebook list: %v\n%s", err, out)
	}
	if out, err := bifrostCmd(dir, nil, "phonebook", "revoke", "--org", org, "--id", toks[0].ID).CombinedOutput(); err != nil {
		t.Fatalf("phonebook revoke: %v\n%s", err, out)
	}
	// The running server keeps resolved tokens for 5 s.
	waitFor(t, "the revoked token to answer 404", 15*time.Second, func() bool { code, _ := post(); return code == http.StatusNotFound })
	s.stop(t)
	// The request log was written, at the latest on shutdown.
	out, err = bifrostCmd(dir, nil, "privacy", "export", "--org", org, "--subject", "Oslo-Fjordsalen").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "phonebook_requests") || !strings.Contains(string(out), "08:96:ad:3c:11:07") {
		t.Errorf("privacy export of the endpoint's name: %v\n%s", err, out)
	}
}
