package phonebook

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// TestXMLPhonebooksMatchTheExpectations fetches the Yealink and Cisco IP
// phone documents of the synced fixture and compares them with yealink/ and
// cisco-ipphone/ in the shared test data.
func TestXMLPhonebooksMatchTheExpectations(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Nordfjord Kraft AS")
	syncFixture(t, db, org)
	e := newEnv(t, db, Config{})
	token := e.newToken(t, org, TokenInput{Name: "Nordfjord Kraft"})

	for _, tt := range []struct{ name, path, want string }{
		{"the Yealink phonebook holds every contact in menus per folder", YealinkBookPath, "yealink/phonebook-small.xml"},
		{"a Yealink directory search finds berg", YealinkDirPath + "?q=berg", "yealink/search-berg-small.xml"},
		{"a Cisco IP phone search finds berg", CiscoDirPath + "?q=berg", "cisco-ipphone/search-berg-small.xml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(fixtureDir, tt.want))
			if err != nil {
				t.Fatal(err)
			}
			code, got := e.get(t, "/pb/"+token+tt.path)
			if code != 200 {
				t.Fatalf("HTTP %d: %s", code, got)
			}
			if strings.TrimSpace(got) != strings.TrimSpace(string(want)) {
				t.Errorf("answer differs from %s:\n got:\n%s\nwant:\n%s", tt.want, got, want)
			}
		})
	}
	t.Run("the Cisco IP phone directory without q is a search form", func(t *testing.T) {
		code, got := e.get(t, "/pb/"+token+CiscoDirPath)
		if code != 200 || !strings.Contains(got, "<CiscoIPPhoneInput>") || !strings.Contains(got, "<QueryStringParam>q</QueryStringParam>") {
			t.Errorf("HTTP %d:\n%s", code, got)
		}
	})
}

// TestJSONSearchUsesTheSameQuery checks the JSON answer against the TMS one.
func TestJSONSearchUsesTheSameQuery(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Alpha")
	manualDirectory(t, directory.NewStore(db, nil), org, map[string][]string{"Oslo": {"Alice Alpha", "Bob"}, "Bergen": {"Alf"}})
	e := newEnv(t, db, Config{})
	token := e.newToken(t, org, TokenInput{})
	code, body := e.get(t, "/pb/"+token+JSONPath+"?q=al")
	var res JSONResult
	if err := json.Unmarshal([]byte(body), &res); code != 200 || err != nil {
		t.Fatalf("HTTP %d %v\n%s", code, err, body)
	}
	var got []string
	for _, it := range res.Items {
		got = append(got, it.Name)
	}
	if strings.Join(got, "|") != "Alf|Alice Alpha" || res.Total != 2 || !res.IsLast ||
		len(res.Items[0].Routes) != 1 || res.Items[0].Routes[0] != (JSONRoute{Protocol: "SIP", DialString: "alf@example.org"}) {
		t.Errorf("JSON search: %+v", res)
	}
	if tms := names(searchResult(t, e, token, searchBody("", "al", 50, ""))); tms != strings.Join(got, "|") {
		t.Errorf("TMS answers %q, JSON %q", tms, got)
	}
}
