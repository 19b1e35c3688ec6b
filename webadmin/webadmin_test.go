package webadmin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestPasswordHashing(t *testing.T) {
	hash, err := HashPassword("correct horse", DefaultPasswordParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=65536,t=2,p=2$") {
		t.Errorf("hash %q does not carry argon2id with the default parameters", hash)
	}
	if err := VerifyPassword("correct horse", hash); err != nil {
		t.Errorf("the right password is refused: %v", err)
	}
	if err := VerifyPassword("correct horsE", hash); !errors.Is(err, ErrPasswordMismatch) {
		t.Errorf("a wrong password gives %v, want ErrPasswordMismatch", err)
	}
	other, _ := HashPassword("correct horse", DefaultPasswordParams)
	if other == hash {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=x$c2FsdA$a2V5"} {
		if err := VerifyPassword("x", bad); err == nil || errors.Is(err, ErrPasswordMismatch) {
			t.Errorf("malformed hash %q gives %v, want a format error", bad, err)
		}
	}
	if p := GeneratePassword(); len(p) != 20 || strings.ContainsAny(p, "0O1lI") {
		t.Errorf("generated password %q: want 20 characters without look-alikes", p)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	var ready error
	s := New(DefaultConfig(), Deps{Ready: func(context.Context) error { return ready }})
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	if rec := get("/healthz"); rec.Code != 200 {
		t.Errorf("/healthz: %d", rec.Code)
	}
	if rec := get("/readyz"); rec.Code != 200 {
		t.Errorf("/readyz while ready: %d", rec.Code)
	}
	ready = errors.New("database unreachable")
	rec := get("/readyz")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "database unreachable") {
		t.Errorf("/readyz while not ready: %d %q", rec.Code, rec.Body.String())
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"} {
		if rec.Header().Get(h) == "" {
			t.Errorf("response lacks security header %s", h)
		}
	}
	if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Error("CSP does not forbid framing")
	}
	if rec := get("/nope"); rec.Code != http.StatusNotFound {
		t.Errorf("unknown path: %d", rec.Code)
	}
}

func TestBootstrapCreatesTheDemoOnce(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	first, err := Bootstrap(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || first.AdminPassword == "" || first.RoomAlias != "1000" {
		t.Fatalf("first bootstrap: %+v", first)
	}
	var hash string
	if err := db.Get(&hash, `SELECT password_hash FROM users WHERE email = $1`, first.AdminEmail); err != nil {
		t.Fatal(err)
	}
	if err := VerifyPassword(first.AdminPassword, hash); err != nil {
		t.Errorf("the printed password does not match the stored hash: %v", err)
	}
	second, err := Bootstrap(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if second.Created || second.AdminPassword != "" || second.RoomAlias != "1000" {
		t.Errorf("second bootstrap: %+v; want nothing created and the demo room reported", second)
	}
	var orgs int
	if err := db.Get(&orgs, `SELECT count(*) FROM organisations`); err != nil || orgs != 1 {
		t.Errorf("organisations after two bootstraps: %d (%v)", orgs, err)
	}
}
