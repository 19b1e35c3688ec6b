package phonebook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
