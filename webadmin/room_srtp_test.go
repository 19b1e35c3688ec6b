package webadmin

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestRoomSRTPPolicy(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	status, room := e.do(t, e.adminTokA, "POST", "/api/v1/rooms", map[string]any{"name": "Secret", "alias": "7001", "srtp_policy": "required"})
	if status != http.StatusCreated || room["srtp_policy"] != "required" {
		t.Fatalf("create with srtp_policy required: %d %v", status, room)
	}
	id := room["id"].(string)
	t.Run("a room without a policy follows the system default", func(t *testing.T) {
		status, r := e.do(t, e.adminTokA, "POST", "/api/v1/rooms", map[string]any{"name": "Open", "alias": "7002"})
		if status != http.StatusCreated || r["srtp_policy"] != "" {
			t.Fatalf("create: %d %v; want srtp_policy empty", status, r)
		}
	})
	t.Run("an unknown policy is 400 on srtp_policy", func(t *testing.T) {
		status, r := e.do(t, e.adminTokA, "PATCH", "/api/v1/rooms/"+id, map[string]any{"srtp_policy": "sometimes"})
		if code, field := errCode(r); status != 400 || code != "invalid" || field != "srtp_policy" {
			t.Fatalf("patch: %d %v", status, r)
		}
	})
	t.Run("a patch of other fields keeps the policy; an empty one clears it", func(t *testing.T) {
		if _, r := e.do(t, e.adminTokA, "PATCH", "/api/v1/rooms/"+id, map[string]any{"owner": "Ann"}); r["srtp_policy"] != "required" {
			t.Fatalf("after patching owner: %v", r)
		}
		if _, r := e.do(t, e.adminTokA, "PATCH", "/api/v1/rooms/"+id, map[string]any{"srtp_policy": ""}); r["srtp_policy"] != "" {
			t.Fatalf("after clearing: %v", r)
		}
	})
	t.Run("the change is audited", func(t *testing.T) {
		var n int
		if err := e.db.Get(&n, `SELECT count(*) FROM audit_log WHERE object_id = $1 AND summary->>'srtp_policy' = 'required'`, id); err != nil || n == 0 {
			t.Fatalf("audit entries naming srtp_policy required: %d (%v)", n, err)
		}
	})
	t.Run("the room form shows and saves the policy", func(t *testing.T) {
		sess := e.sessionFor(t, e.adminA)
		if rec := e.page(t, sess, "POST", "/admin/rooms/"+id, map[string]string{"name": "Secret", "alias": "7001", "srtp_policy": "off"}); rec.Code != http.StatusSeeOther {
			t.Fatalf("save: %d %s", rec.Code, rec.Body)
		}
		r, err := LookupRoom(context.Background(), e.db, "7001")
		if err != nil || r.SRTPPolicy != "off" {
			t.Fatalf("stored policy %q (%v); want off", r.SRTPPolicy, err)
		}
		rec := e.page(t, sess, "GET", "/admin/rooms/"+id, nil)
		if body := rec.Body.String(); !strings.Contains(body, `<option value="off" selected>`) {
			t.Errorf("the edit form does not show off selected:\n%s", body)
		}
	})
}
