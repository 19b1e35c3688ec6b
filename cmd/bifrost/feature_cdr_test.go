package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
	"github.com/bifrost-video/bifrost/webadmin"
)

// TestCDRAPI calls the call-record API through the web admin, with an API
// token of one organisation: it sees its records only, as JSON or CSV.
func TestCDRAPI(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	store := webadmin.NewStore(db, nil)
	orgA, err := store.CreateOrganisation(ctx, "A")
	if err != nil {
		t.Fatal(err)
	}
	orgB, err := store.CreateOrganisation(ctx, "B")
	if err != nil {
		t.Fatal(err)
	}
	confA, confB := "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
	for _, c := range []struct{ conf, org, name string }{{confA, orgA.ID, "Alice"}, {confB, orgB.ID, "Bob"}} {
		db.MustExec(`INSERT INTO cdr_conferences (id, organisation_id, room_name, started_at) VALUES ($1, $2, 'Main', '2026-05-01T09:00:00Z')`, c.conf, c.org)
		db.MustExec(`INSERT INTO cdr_legs (id, conference_id, organisation_id, direction, protocol, display_name, started_at, packets_received, packets_lost)
			VALUES (gen_random_uuid(), $1, $2, 'in', 'sip', $3, '2026-05-01T09:00:00Z', 900, 100)`, c.conf, c.org, c.name)
	}
	_, secret, err := store.CreateToken(ctx, orgA.ID, webadmin.TokenInput{Name: "reports"}, "")
	if err != nil {
		t.Fatal(err)
	}
	h := webadmin.New(webadmin.DefaultConfig(), webadmin.Deps{DB: db, Features: []webadmin.Feature{cdrFeature(db)}}).Handler()
	get := func(path, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	if rec := get("/api/v1/cdr/legs", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", rec.Code)
	}
	rec := get("/api/v1/cdr/legs?min_loss_percent=5", secret)
	var list struct {
		Items []struct {
			DisplayName string  `json:"display_name"`
			LossPercent float64 `json:"loss_percent"`
		} `json:"items"`
		Total int `json:"total"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || rec.Code != 200 || list.Total != 1 || list.Items[0].DisplayName != "Alice" || list.Items[0].LossPercent != 10 {
		t.Errorf("legs: %d %s", rec.Code, rec.Body)
	}
	if rec := get("/api/v1/cdr/legs?format=csv", secret); rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") ||
		!strings.Contains(rec.Body.String(), "Alice") || strings.Contains(rec.Body.String(), "Bob") {
		t.Errorf("CSV: %d %s", rec.Code, rec.Body)
	}
	if rec := get("/api/v1/cdr/conferences", secret); rec.Code != 200 || !strings.Contains(rec.Body.String(), confA) || strings.Contains(rec.Body.String(), confB) {
		t.Errorf("conferences: %d %s", rec.Code, rec.Body)
	}
	if rec := get("/api/v1/cdr/conferences/"+confA, secret); rec.Code != 200 || !strings.Contains(rec.Body.String(), "Alice") {
		t.Errorf("own conference: %d %s", rec.Code, rec.Body)
	}
	if rec := get("/api/v1/cdr/conferences/"+confB, secret); rec.Code != http.StatusNotFound {
		t.Errorf("another organisation's conference: %d %s", rec.Code, rec.Body)
	}
	if rec := get("/api/v1/cdr/legs?from=yesterday", secret); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"field": "from"`) {
		t.Errorf("a bad time: %d %s", rec.Code, rec.Body)
	}
	if rec := get("/api/v1/openapi.json", ""); !strings.Contains(rec.Body.String(), "/cdr/legs") || !strings.Contains(rec.Body.String(), "/privacy/erase") {
		t.Error("the OpenAPI document lacks the CDR and privacy paths")
	}

	post := func(path, token, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	_, viewer, err := store.CreateToken(ctx, orgA.ID, webadmin.TokenInput{Name: "viewer", Role: webadmin.RoleViewer}, "")
	if err != nil {
		t.Fatal(err)
	}
	_, admin, err := store.CreateToken(ctx, orgA.ID, webadmin.TokenInput{Name: "dpo", Role: webadmin.RoleAdmin}, "")
	if err != nil {
		t.Fatal(err)
	}
	if rec := post("/api/v1/privacy/export", viewer, `{"subject": "Alice"}`); rec.Code != http.StatusForbidden {
		t.Errorf("a viewer's export: %d", rec.Code)
	}
	if rec := post("/api/v1/privacy/export", admin, `{"subject": "Alice"}`); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"display_name": "Alice"`) {
		t.Errorf("export: %d %s", rec.Code, rec.Body)
	}
	if rec := post("/api/v1/privacy/erase", admin, `{"subject": "Alice"}`); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "confirm") {
		t.Errorf("erase without confirm: %d %s", rec.Code, rec.Body)
	}
	if rec := post("/api/v1/privacy/erase", admin, `{"subject": "Bob", "confirm": true}`); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"cdr_legs": 0`) {
		t.Errorf("erasing another organisation's person: %d %s", rec.Code, rec.Body)
	}
	if rec := post("/api/v1/privacy/erase", admin, `{"subject": "Alice", "confirm": true}`); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"cdr_legs": 1`) {
		t.Errorf("erase: %d %s", rec.Code, rec.Body)
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM audit_log WHERE action = 'privacy.erase' AND actor_kind = 'token'`); err != nil || n != 2 {
		t.Errorf("%d erasures audited as the token, want 2", n)
	}
}
