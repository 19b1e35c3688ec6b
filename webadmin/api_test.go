package webadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// apiEnv is a server on a fixture, with a token per role and organisation.
type apiEnv struct {
	*fixture
	srv                       *Server
	adminTokA, viewTokA, tokB string
	tokenAID                  string
}

func newAPIEnv(t testing.TB) *apiEnv {
	t.Helper()
	f := newFixture(t)
	e := &apiEnv{fixture: f}
	e.srv = New(Config{Addr: "127.0.0.1:0", PublicURL: "https://video.example"}, Deps{DB: f.db, Now: f.clock.Now, SIPDomain: "video.example"})
	ctx := f.ctxAs(f.adminA)
	tok, secret, err := f.store.CreateToken(ctx, f.orgA.ID, TokenInput{Name: "admin-a", Role: RoleAdmin}, f.adminA.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.adminTokA, e.tokenAID = secret, tok.ID
	if _, e.viewTokA, err = f.store.CreateToken(ctx, f.orgA.ID, TokenInput{Name: "viewer-a", Role: RoleViewer}, f.adminA.ID); err != nil {
		t.Fatal(err)
	}
	if _, e.tokB, err = f.store.CreateToken(f.ctxAs(f.adminB), f.orgB.ID, TokenInput{Name: "admin-b", Role: RoleAdmin}, f.adminB.ID); err != nil {
		t.Fatal(err)
	}
	return e
}

// do sends an API request with token (none when empty) and body (JSON-encoded
// unless a string) and returns the status and the decoded JSON answer.
func (e *apiEnv) do(t *testing.T, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = "198.51.100.20:4000"
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	var out map[string]any
	if rec.Body.Len() > 0 && strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, rec.Body)
		}
	}
	return rec.Code, out
}

// errCode returns the error code and field of an API error answer.
func errCode(m map[string]any) (code, field string) {
	e, _ := m["error"].(map[string]any)
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	return code, field
}

func TestAPIRooms(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	status, room := e.do(t, e.adminTokA, "POST", "/api/v1/rooms", map[string]any{
		"name": "Board room", "alias": "1234", "name_alias": "board.room", "host_pin": "654321", "guest_pin": "1111", "max_participants": 12, "owner": "Ann"})
	if status != http.StatusCreated || room["id"] == "" || room["alias"] != "1234" || room["host_pin"] != "654321" {
		t.Fatalf("create: %d %v", status, room)
	}
	id := room["id"].(string)
	tests := []struct {
		name        string
		token       string
		method      string
		path        string
		body        any
		status      int
		code, field string
	}{
		{"get answers the room", e.adminTokA, "GET", "/api/v1/rooms/" + id, nil, 200, "", ""},
		{"no token is 401", "", "GET", "/api/v1/rooms", nil, 401, "unauthorized", ""},
		{"a wrong token is 401", "bft_nope", "GET", "/api/v1/rooms", nil, 401, "unauthorized", ""},
		{"another scheme is 401", "", "GET", "/api/v1/rooms", nil, 401, "unauthorized", ""},
		{"a viewer creating is 403", e.viewTokA, "POST", "/api/v1/rooms", map[string]any{"name": "x", "alias": "77"}, 403, "forbidden", ""},
		{"a viewer changing is 403", e.viewTokA, "PATCH", "/api/v1/rooms/" + id, map[string]any{"name": "x"}, 403, "forbidden", ""},
		{"a viewer deleting is 403", e.viewTokA, "DELETE", "/api/v1/rooms/" + id, nil, 403, "forbidden", ""},
		{"a bad alias is 400 on alias", e.adminTokA, "POST", "/api/v1/rooms", map[string]any{"name": "x", "alias": "12ab"}, 400, "invalid", "alias"},
		{"a missing name is 400 on name", e.adminTokA, "POST", "/api/v1/rooms", map[string]any{"alias": "55"}, 400, "invalid", "name"},
		{"a short PIN is 400 on host_pin", e.adminTokA, "PATCH", "/api/v1/rooms/" + id, map[string]any{"host_pin": "12"}, 400, "invalid", "host_pin"},
		{"an unknown field is 400 on it", e.adminTokA, "POST", "/api/v1/rooms", map[string]any{"name": "x", "alias": "56", "colour": "red"}, 400, "invalid", "colour"},
		{"a wrong type is 400 on the field", e.adminTokA, "POST", "/api/v1/rooms", map[string]any{"name": "x", "alias": "56", "max_participants": "ten"}, 400, "invalid", "max_participants"},
		{"broken JSON is 400", e.adminTokA, "POST", "/api/v1/rooms", `{"name":`, 400, "invalid", "body"},
		{"a bad limit is 400 on limit", e.adminTokA, "GET", "/api/v1/rooms?limit=abc", nil, 400, "invalid", "limit"},
		{"a taken alias is 409", e.adminTokA, "POST", "/api/v1/rooms", map[string]any{"name": "x", "alias": "1234"}, 409, "conflict", "alias"},
		{"a taken alias in another organisation is 409", e.tokB, "POST", "/api/v1/rooms", map[string]any{"name": "x", "alias": "1234"}, 409, "conflict", "alias"},
		{"a taken name alias is 409", e.adminTokA, "POST", "/api/v1/rooms", map[string]any{"name": "x", "alias": "57", "name_alias": "Board.Room"}, 409, "conflict", "name_alias"},
		{"an unknown room is 404", e.adminTokA, "GET", "/api/v1/rooms/00000000-0000-0000-0000-000000000000", nil, 404, "not_found", ""},
		{"a malformed ID is 404", e.adminTokA, "GET", "/api/v1/rooms/nope", nil, 404, "not_found", ""},
		{"an unknown resource is a JSON 404", e.adminTokA, "GET", "/api/v1/nope", nil, 404, "not_found", ""},
		{"a method the route lacks is a JSON 405", e.adminTokA, "PUT", "/api/v1/rooms/" + id, map[string]any{}, 405, "method_not_allowed", ""},
		{"patch changes a field", e.adminTokA, "PATCH", "/api/v1/rooms/" + id, map[string]any{"owner": "Bob", "guests_wait_for_host": true}, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.do(t, tt.token, tt.method, tt.path, tt.body)
			code, field := errCode(body)
			if status != tt.status || code != tt.code || field != tt.field {
				t.Errorf("got %d %q field %q, want %d %q field %q (%v)", status, code, field, tt.status, tt.code, tt.field, body)
			}
		})
	}
	t.Run("a viewer sees the PINs masked", func(t *testing.T) {
		_, r := e.do(t, e.viewTokA, "GET", "/api/v1/rooms/"+id, nil)
		if r["host_pin"] != MaskedPIN || r["guest_pin"] != MaskedPIN {
			t.Errorf("viewer sees host_pin %v guest_pin %v", r["host_pin"], r["guest_pin"])
		}
		_, l := e.do(t, e.viewTokA, "GET", "/api/v1/rooms", nil)
		if strings.Contains(mustJSON(l), "654321") {
			t.Error("the list shows a viewer the host PIN")
		}
	})
	t.Run("lists page with limit and offset", func(t *testing.T) {
		for _, a := range []string{"2001", "2002", "2003"} {
			if s, b := e.do(t, e.adminTokA, "POST", "/api/v1/rooms", map[string]any{"name": "R" + a, "alias": a}); s != 201 {
				t.Fatalf("%d %v", s, b)
			}
		}
		_, l := e.do(t, e.adminTokA, "GET", "/api/v1/rooms?limit=2&offset=1", nil)
		items, _ := l["items"].([]any)
		if l["total"] != 4.0 || len(items) != 2 || items[0].(map[string]any)["alias"] != "2001" {
			t.Errorf("page: %v", l)
		}
		_, l = e.do(t, e.adminTokA, "GET", "/api/v1/rooms?q=r200", nil)
		if l["total"] != 3.0 {
			t.Errorf("search: %v", l["total"])
		}
	})
	t.Run("delete answers 204 and the room is gone", func(t *testing.T) {
		if s, _ := e.do(t, e.adminTokA, "DELETE", "/api/v1/rooms/"+id, nil); s != 204 {
			t.Errorf("delete: %d", s)
		}
		if s, _ := e.do(t, e.adminTokA, "GET", "/api/v1/rooms/"+id, nil); s != 404 {
			t.Errorf("get after delete: %d", s)
		}
	})
	t.Run("the API's mutations are audited as the token, without PINs", func(t *testing.T) {
		rows, _, err := audit.List(context.Background(), e.db, audit.Filter{OrganisationID: e.orgA.ID, Action: "room."})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 6 { // create, patch, 3 creates, delete
			t.Errorf("%d room entries, want 6", len(rows))
		}
		for _, r := range rows {
			if r.ActorKind != "token" || r.ActorName != "admin-a" || r.SourceIP == nil || *r.SourceIP != "198.51.100.20" {
				t.Errorf("entry %s by %s %q from %v", r.Action, r.ActorKind, r.ActorName, r.SourceIP)
			}
			if strings.Contains(string(r.Summary), "654321") || strings.Contains(string(r.Summary), "1111") {
				t.Errorf("entry %s carries a PIN: %s", r.Action, r.Summary)
			}
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAPIUsersTokensAudit(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	status, u := e.do(t, e.adminTokA, "POST", "/api/v1/users", map[string]any{"email": "new@acme.example", "role": "viewer", "password": "a fine long password", "name": "New"})
	if status != 201 || u["email"] != "new@acme.example" || u["password_hash"] != nil || u["password"] != nil {
		t.Fatalf("create user: %d %v", status, u)
	}
	uid := u["id"].(string)
	var hash string
	if err := e.db.Get(&hash, `SELECT password_hash FROM users WHERE id = $1`, uid); err != nil || !strings.HasPrefix(hash, "$argon2id$v=19$m=65536,t=2,p=2$") {
		t.Errorf("an account made through the API is hashed as %q (%v), want argon2id with the default parameters", hash, err)
	}
	status, tok := e.do(t, e.adminTokA, "POST", "/api/v1/tokens", map[string]any{"name": "booking"})
	secret, _ := tok["token"].(string)
	if status != 201 || !strings.HasPrefix(secret, TokenPrefix) || tok["role"] != "viewer" {
		t.Fatalf("create token: %d %v", status, tok)
	}
	tid := tok["id"].(string)
	tests := []struct {
		name        string
		token       string
		method      string
		path        string
		body        any
		status      int
		code, field string
	}{
		{"users list", e.viewTokA, "GET", "/api/v1/users", nil, 200, "", ""},
		{"user get", e.viewTokA, "GET", "/api/v1/users/" + uid, nil, 200, "", ""},
		{"a short password is 400", e.adminTokA, "POST", "/api/v1/users", map[string]any{"email": "x@acme.example", "role": "viewer", "password": "short"}, 400, "invalid", "password"},
		{"a bad e-mail is 400", e.adminTokA, "POST", "/api/v1/users", map[string]any{"email": "not-an-address", "role": "viewer", "password": "a fine long password"}, 400, "invalid", "email"},
		{"a taken e-mail is 409", e.adminTokA, "POST", "/api/v1/users", map[string]any{"email": "NEW@acme.example", "role": "viewer", "password": "a fine long password"}, 409, "conflict", "email"},
		{"an admin cannot create a system user", e.adminTokA, "POST", "/api/v1/users", map[string]any{"email": "s@acme.example", "role": "system", "password": "a fine long password"}, 403, "forbidden", ""},
		{"an admin cannot change a system user", e.adminTokA, "PATCH", "/api/v1/users/" + e.system.ID, map[string]any{"name": "x"}, 403, "forbidden", ""},
		{"a viewer cannot create users", e.viewTokA, "POST", "/api/v1/users", map[string]any{"email": "v@acme.example", "role": "viewer", "password": "a fine long password"}, 403, "forbidden", ""},
		{"a viewer cannot delete others", e.viewTokA, "DELETE", "/api/v1/users/" + uid, nil, 403, "forbidden", ""},
		{"user patch", e.adminTokA, "PATCH", "/api/v1/users/" + uid, map[string]any{"role": "admin"}, 200, "", ""},
		{"tokens list", e.viewTokA, "GET", "/api/v1/tokens", nil, 200, "", ""},
		{"token get", e.viewTokA, "GET", "/api/v1/tokens/" + tid, nil, 200, "", ""},
		{"a token without a name is 400", e.adminTokA, "POST", "/api/v1/tokens", map[string]any{"role": "admin"}, 400, "invalid", "name"},
		{"a system token is 400", e.adminTokA, "POST", "/api/v1/tokens", map[string]any{"name": "x", "role": "system"}, 400, "invalid", "role"},
		{"a viewer cannot revoke", e.viewTokA, "DELETE", "/api/v1/tokens/" + tid, nil, 403, "forbidden", ""},
		{"token revoke", e.adminTokA, "DELETE", "/api/v1/tokens/" + tid, nil, 204, "", ""},
		{"a revoked token is 401", secret, "GET", "/api/v1/rooms", nil, 401, "unauthorized", ""},
		{"revoking twice is 404", e.adminTokA, "DELETE", "/api/v1/tokens/" + tid, nil, 404, "not_found", ""},
		{"user delete", e.adminTokA, "DELETE", "/api/v1/users/" + uid, nil, 204, "", ""},
		{"a deleted user is 404", e.adminTokA, "GET", "/api/v1/users/" + uid, nil, 404, "not_found", ""},
		{"audit list", e.viewTokA, "GET", "/api/v1/audit?action=user.&from=2026-01-01", nil, 200, "", ""},
		{"a bad audit date is 400", e.viewTokA, "GET", "/api/v1/audit?from=yesterday", nil, 400, "invalid", "from"},
		{"a bad action filter is 400", e.viewTokA, "GET", "/api/v1/audit?action=DROP", nil, 400, "invalid", "action"},
		{"organisation get", e.viewTokA, "GET", "/api/v1/organisation", nil, 200, "", ""},
		{"a viewer cannot change settings", e.viewTokA, "PATCH", "/api/v1/organisation", map[string]any{"time_zone": "Europe/Oslo"}, 403, "forbidden", ""},
		{"an unknown time zone is 400", e.adminTokA, "PATCH", "/api/v1/organisation", map[string]any{"time_zone": "Mars/Olympus_Mons"}, 400, "invalid", "time_zone"},
		{"the server's Local zone is 400", e.adminTokA, "PATCH", "/api/v1/organisation", map[string]any{"time_zone": "Local"}, 400, "invalid", "time_zone"},
		{"an unknown setting is 400", e.adminTokA, "PATCH", "/api/v1/organisation", map[string]any{"name": "Mine"}, 400, "invalid", "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.do(t, tt.token, tt.method, tt.path, tt.body)
			code, field := errCode(body)
			if status != tt.status || code != tt.code || field != tt.field {
				t.Errorf("got %d %q field %q, want %d %q field %q (%v)", status, code, field, tt.status, tt.code, tt.field, body)
			}
		})
	}
	t.Run("the audit log has every mutation and no secret", func(t *testing.T) {
		_, l := e.do(t, e.viewTokA, "GET", "/api/v1/audit?limit=500", nil)
		all := mustJSON(l)
		for _, secretText := range []string{secret, "a fine long password", e.password, e.adminTokA} {
			if strings.Contains(all, secretText) {
				t.Errorf("the audit log carries a secret %q", secretText)
			}
		}
		want := map[string]bool{"user.create": false, "user.update": false, "user.delete": false, "api_token.create": false, "api_token.revoke": false}
		for _, it := range l["items"].([]any) {
			want[it.(map[string]any)["action"].(string)] = true
		}
		for a, seen := range want {
			if !seen {
				t.Errorf("no %s entry", a)
			}
		}
	})
	t.Run("a user may delete their own account", func(t *testing.T) {
		sess := e.sessionFor(t, e.viewA)
		rec := e.page(t, sess, "POST", "/admin/users/"+e.viewA.ID+"/delete", map[string]string{})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("delete own account: %d %s", rec.Code, rec.Body)
		}
		if _, err := e.store.GetUser(context.Background(), e.orgA.ID, e.viewA.ID); err == nil {
			t.Error("the account still exists")
		}
	})
}
