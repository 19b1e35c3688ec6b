package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestE2ECallRecordSurvivesKill9 is the CDR promise seen from outside: a real
// `bifrost serve` is killed with SIGKILL while baresip is in a call; the next
// start closes the call's leg with end reason bridge_restart, as the REST API
// shows it.
func TestE2ECallRecordSurvivesKill9(t *testing.T) {
	needTool(t, "baresip")
	dir := dataDir(t)
	s := startServe(t, dir, "BIFROST_LOG_LEVEL=info")
	m := regexp.MustCompile(`Dial:\s+sip:(\d+)@`).FindStringSubmatch(s.stdout.String())
	if m == nil {
		t.Fatalf("no demo room in the banner:\n%s", s.stdout.String())
	}
	out, err := bifrostCmd(dir, nil, "token", "create", "--org", "Demo", "--name", "cdr-e2e", "--role", "viewer").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	token := strings.TrimSpace(string(out))

	ph := startBaresip(t, "caller", toneWAV(t, t.TempDir(), 440, 60), "PCMU", fmt.Sprintf("sip:%s@%s", m[1], s.sipUDP))
	eventually(t, 30*time.Second, "the call's leg to be recorded, still open", func() bool {
		legs := cdrLegs(t, s.httpAddr, token)
		return len(legs) == 1 && legs[0].EndReason == nil && legs[0].EndedAt == nil
	})

	_ = s.cmd.Process.Kill()
	<-s.exited
	ph.stop()

	s2 := startServe(t, dir)
	defer s2.stop(t)
	legs := cdrLegs(t, s2.httpAddr, token)
	if len(legs) != 1 {
		t.Fatalf("after the restart the API lists %d legs; want the one call", len(legs))
	}
	if r := legs[0].EndReason; r == nil || *r != "bridge_restart" || legs[0].EndedAt == nil {
		t.Errorf("the leg open at the kill has end reason %v, ended %v; want bridge_restart with an end time", deref(r), legs[0].EndedAt)
	}
}

type cdrLeg struct {
	EndReason *string    `json:"end_reason"`
	EndedAt   *time.Time `json:"ended_at"`
}

func cdrLegs(t *testing.T, httpAddr, token string) []cdrLeg {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+httpAddr+"/api/v1/cdr/legs", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /api/v1/cdr/legs: %v", err)
	}
	defer res.Body.Close()
	var body struct {
		Items []cdrLeg `json:"items"`
	}
	if res.StatusCode != 200 {
		t.Fatalf("GET /api/v1/cdr/legs: %s", res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("GET /api/v1/cdr/legs: %v", err)
	}
	return body.Items
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
