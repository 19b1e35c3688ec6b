package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
	"github.com/bifrost-video/bifrost/webadmin"
)

// TestE2EAdminHangsUpOnABaresip joins a real SIP endpoint to a room and hangs
// up on it through the REST API: the bridge sends it a BYE, baresip's call
// ends, and the call record says kicked.
func TestE2EAdminHangsUpOnABaresip(t *testing.T) {
	needTool(t, "baresip")
	db := pgtest.New(t)
	ctx := context.Background()
	store := webadmin.NewStore(db, nil)
	org, err := store.CreateOrganisation(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := store.CreateToken(ctx, org.ID, webadmin.TokenInput{Name: "ops", Role: webadmin.RoleAdmin}, "")
	if err != nil {
		t.Fatal(err)
	}
	room := bridge.RoomInfo{ID: "20000000-0000-4000-8000-000000000001", OrganisationID: bridge.OrganisationID(org.ID), Name: "Ops", Alias: "7788"}
	e := startE2E(t, room)
	h := webadmin.New(webadmin.DefaultConfig(), webadmin.Deps{DB: db, Features: []webadmin.Feature{conferencesFeature(db, e.b, nil)}}).Handler()
	alice := startBaresip(t, "alice", toneWAV(t, t.TempDir(), 440, 60), "PCMU", e.uri(room.Alias))
	eventually(t, 30*time.Second, "alice in the mix", func() bool {
		return e.participants(room.ID)["alice"].State == bridge.ParticipantJoined
	})
	confs := e.b.Conferences(ctx)
	path := "/api/v1/conferences/" + string(confs[0].ID) + "/participants/" + string(e.participants(room.ID)["alice"].ID)
	req := httptest.NewRequest("DELETE", path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE %s: %d %s", path, rec.Code, rec.Body)
	}
	eventually(t, 30*time.Second, "alice's leg to end as kicked", func() bool {
		for _, end := range e.obs.ended() {
			if end.Reason == bridge.EndKicked {
				return true
			}
		}
		return false
	})
	// baresip reports a BYE it received as "session closed: Connection reset
	// by peer" (its ECONNRESET).
	eventually(t, 30*time.Second, "baresip to see its call closed by the bridge", func() bool {
		return strings.Contains(alice.Output(), "session closed: Connection reset by peer")
	})
	if ps := e.participants(room.ID); len(ps) != 0 {
		t.Errorf("participants after the hang-up: %v", ps)
	}
}
