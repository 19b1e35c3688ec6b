package webadmin

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/internal/audit"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var testPasswordParams = PasswordParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func ptr[T any](v T) *T { return &v }

// fixture is a database with two organisations, each with an admin and a viewer.
type fixture struct {
	db            *sqlx.DB
	store         *Store
	clock         *fakeClock
	orgA, orgB    Organisation
	adminA, viewA User
	adminB        User
	system        User
	password      string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db := pgtest.New(t)
	clock := newFakeClock()
	f := &fixture{db: db, store: NewStore(db, clock.Now), clock: clock, password: "a long password 1"}
	// Cheap hashes keep the tests fast; TestPasswordHashing checks the defaults.
	f.store.params = testPasswordParams
	ctx := audit.WithActor(context.Background(), audit.Actor{Kind: audit.ActorCLI, Name: "cli"})
	var err error
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	f.orgA, err = f.store.CreateOrganisation(ctx, "Acme")
	must(err)
	f.orgB, err = f.store.CreateOrganisation(ctx, "Globex")
	must(err)
	mk := func(org, email string, role Role) User {
		u, err := f.store.CreateUser(ctx, org, UserInput{Email: ptr(email), Role: ptr(role), Password: ptr(f.password), Name: ptr(strings.Split(email, "@")[0])})
		must(err)
		return u
	}
	f.adminA = mk(f.orgA.ID, "admin@acme.example", RoleAdmin)
	f.viewA = mk(f.orgA.ID, "viewer@acme.example", RoleViewer)
	f.adminB = mk(f.orgB.ID, "admin@globex.example", RoleAdmin)
	f.system = mk(f.orgA.ID, "root@acme.example", RoleSystem)
	return f
}

func (f *fixture) ctxAs(u User) context.Context {
	org := ""
	if u.OrganisationID != nil {
		org = *u.OrganisationID
	}
	return WithPrincipal(context.Background(), Principal{UserID: u.ID, Name: u.Email, Role: u.Role, OrganisationID: org, IP: "192.0.2.7"})
}

func TestRoomStore(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := f.ctxAs(f.adminA)
	r, err := f.store.CreateRoom(ctx, f.orgA.ID, RoomInput{Name: ptr("Board room"), Alias: ptr("1234"), NameAlias: ptr("Board.Room"),
		HostPIN: ptr("123456"), GuestPIN: ptr("4321"), MaxParticipants: ptr(10), Owner: ptr("Ann")})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == "" || r.Alias != "1234" || r.HostPIN != "123456" || r.MaxParticipants != 10 || r.GuestsWaitForHost {
		t.Errorf("created room: %+v", r)
	}
	t.Run("a taken alias is a conflict on alias, in any organisation", func(t *testing.T) {
		_, err := f.store.CreateRoom(f.ctxAs(f.adminB), f.orgB.ID, RoomInput{Name: ptr("X"), Alias: ptr("1234")})
		var c *ConflictError
		if !errors.As(err, &c) || c.Field != "alias" {
			t.Errorf("got %v, want a conflict on alias", err)
		}
		_, err = f.store.CreateRoom(ctx, f.orgA.ID, RoomInput{Name: ptr("X"), Alias: ptr("99"), NameAlias: ptr("board.room")})
		if !errors.As(err, &c) || c.Field != "name_alias" {
			t.Errorf("got %v, want a conflict on name_alias", err)
		}
	})
	t.Run("bad input names the field", func(t *testing.T) {
		for field, in := range map[string]RoomInput{
			"name":             {Alias: ptr("1")},
			"alias":            {Name: ptr("x"), Alias: ptr("12a")},
			"name_alias":       {Name: ptr("x"), Alias: ptr("2"), NameAlias: ptr("12345")},
			"host_pin":         {Name: ptr("x"), Alias: ptr("2"), HostPIN: ptr("12")},
			"guest_pin":        {Name: ptr("x"), Alias: ptr("2"), HostPIN: ptr("1234"), GuestPIN: ptr("1234")},
			"max_participants": {Name: ptr("x"), Alias: ptr("2"), MaxParticipants: ptr(-1)},
		} {
			_, err := f.store.CreateRoom(ctx, f.orgA.ID, in)
			var v *ValidationError
			if !errors.As(err, &v) || v.Field != field {
				t.Errorf("%s: got %v", field, err)
			}
		}
	})
	t.Run("another organisation's room is not found", func(t *testing.T) {
		if _, err := f.store.GetRoom(ctx, f.orgB.ID, r.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("get: %v", err)
		}
		if _, err := f.store.UpdateRoom(ctx, f.orgB.ID, r.ID, RoomInput{Name: ptr("Stolen")}); !errors.Is(err, ErrNotFound) {
			t.Errorf("update: %v", err)
		}
		if err := f.store.DeleteRoom(ctx, f.orgB.ID, r.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete: %v", err)
		}
	})
	t.Run("an update changes only what it sets and can remove a PIN", func(t *testing.T) {
		u, err := f.store.UpdateRoom(ctx, f.orgA.ID, r.ID, RoomInput{GuestPIN: ptr(""), GuestsWaitForHost: ptr(true), MaxParticipants: ptr(0)})
		if err != nil {
			t.Fatal(err)
		}
		if u.GuestPIN != "" || u.HostPIN != "123456" || !u.GuestsWaitForHost || u.MaxParticipants != 0 || u.Name != "Board room" {
			t.Errorf("updated room: %+v", u)
		}
		if _, err := f.store.UpdateRoom(ctx, f.orgA.ID, r.ID, RoomInput{GuestPIN: ptr("123456")}); err == nil {
			t.Error("a guest PIN equal to the host PIN was accepted")
		}
	})
	t.Run("the bridge finds the room by numeric and by name alias", func(t *testing.T) {
		for _, alias := range []string{"1234", "board.room", "BOARD.ROOM"} {
			got, err := LookupRoom(context.Background(), f.db, alias)
			if err != nil || got.ID != r.ID {
				t.Errorf("LookupRoom(%q) = %v, %v", alias, got.ID, err)
			}
		}
		if _, err := LookupRoom(context.Background(), f.db, "4321"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown alias: %v", err)
		}
	})
	t.Run("search and paging", func(t *testing.T) {
		for _, a := range []string{"2000", "2001", "2002"} {
			if _, err := f.store.CreateRoom(ctx, f.orgA.ID, RoomInput{Name: ptr("Huddle " + a), Alias: ptr(a)}); err != nil {
				t.Fatal(err)
			}
		}
		rooms, total, err := f.store.ListRooms(ctx, f.orgA.ID, "huddle", Page{Limit: 2, Offset: 1})
		if err != nil || total != 3 || len(rooms) != 2 || rooms[0].Alias != "2001" {
			t.Errorf("search: %d of %d, %v (%v)", len(rooms), total, rooms, err)
		}
		if _, total, _ := f.store.ListRooms(ctx, f.orgA.ID, "100%", Page{}); total != 0 {
			t.Errorf("a %% in the search is a wildcard: %d rooms", total)
		}
	})
	t.Run("every mutation is audited without the PINs", func(t *testing.T) {
		rows, _, err := audit.List(context.Background(), f.db, audit.Filter{OrganisationID: f.orgA.ID, Action: "room.", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var creates, updates int
		for _, row := range rows {
			if strings.Contains(string(row.Summary), "123456") || strings.Contains(string(row.Summary), "4321") {
				t.Errorf("audit summary carries a PIN: %s", row.Summary)
			}
			if row.ActorName != "admin@acme.example" || row.SourceIP == nil || *row.SourceIP != "192.0.2.7" {
				t.Errorf("audit actor: %q from %v", row.ActorName, row.SourceIP)
			}
			switch row.Action {
			case "room.create":
				creates++
			case "room.update":
				updates++
			}
		}
		if creates != 4 || updates != 1 {
			t.Errorf("%d room.create and %d room.update entries, want 4 and 1", creates, updates)
		}
	})
}

func TestTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := f.ctxAs(f.adminA)
	tok, secret, err := f.store.CreateToken(ctx, f.orgA.ID, TokenInput{Name: "ci", Role: RoleViewer}, f.adminA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) < 40 || !strings.HasPrefix(secret, tok.Prefix) {
		t.Errorf("secret %q, prefix %q", secret, tok.Prefix)
	}
	var stored int
	if err := f.db.Get(&stored, `SELECT count(*) FROM api_tokens WHERE position($1 in encode(token_hash, 'escape')) > 0`, secret); err != nil || stored != 0 {
		t.Errorf("the token is stored in clear (%v)", err)
	}
	f.clock.Advance(time.Minute)
	p, err := f.store.AuthenticateToken(context.Background(), secret)
	if err != nil || p.OrganisationID != f.orgA.ID || p.Role != RoleViewer || p.TokenID != tok.ID {
		t.Fatalf("authenticate: %+v %v", p, err)
	}
	got, _ := f.store.GetToken(ctx, f.orgA.ID, tok.ID)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(f.clock.Now()) {
		t.Errorf("last used at %v, want %v", got.LastUsedAt, f.clock.Now())
	}
	if err := f.store.RevokeToken(ctx, f.orgB.ID, tok.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoking another organisation's token: %v", err)
	}
	if err := f.store.RevokeToken(ctx, f.orgA.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.AuthenticateToken(context.Background(), secret); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("a revoked token authenticates: %v", err)
	}
	rows, _, _ := audit.List(context.Background(), f.db, audit.Filter{OrganisationID: f.orgA.ID, Action: "api_token."})
	if len(rows) != 2 {
		t.Errorf("%d token audit entries, want 2", len(rows))
	}
	for _, r := range rows {
		if strings.Contains(string(r.Summary), secret) {
			t.Error("the audit log carries the token")
		}
	}
}

func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.store.Login(ctx, "ADMIN@acme.example", f.password, "192.0.2.1:5000"); err != nil {
		t.Fatalf("the right password, e-mail in another case: %v", err)
	}
	for i := 1; i < AccountFailures; i++ {
		if _, err := f.store.Login(ctx, "admin@acme.example", "wrong", "192.0.2.1:5000"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v, want ErrBadCredentials", i, err)
		}
	}
	var te *ThrottledError
	if _, err := f.store.Login(ctx, "admin@acme.example", "wrong", "192.0.2.1:5000"); !errors.As(err, &te) {
		t.Fatalf("failure %d: %v, want ThrottledError", AccountFailures, err)
	}
	if _, err := f.store.Login(ctx, "admin@acme.example", f.password, "198.51.100.9:1"); !errors.As(err, &te) {
		t.Errorf("the right password while the account is locked, from another address: %v", err)
	}
	if _, err := f.store.Login(ctx, "viewer@acme.example", f.password, "192.0.2.1:5000"); err != nil {
		t.Errorf("another account from the same address is locked too: %v", err)
	}
	f.clock.Advance(ThrottleLockout + time.Second)
	if _, err := f.store.Login(ctx, "admin@acme.example", f.password, "192.0.2.1:5000"); err != nil {
		t.Errorf("after the lock-out: %v", err)
	}
	t.Run("per address, over many accounts", func(t *testing.T) {
		for i := range IPFailures - 1 {
			if _, err := f.store.Login(ctx, "nobody"+string(rune('a'+i))+"@x.example", "x", "203.0.113.5"); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		if _, err := f.store.Login(ctx, "nobody@x.example", "x", "203.0.113.5"); !errors.As(err, &te) {
			t.Fatalf("failure %d from one address: %v, want ThrottledError", IPFailures, err)
		}
		if _, err := f.store.Login(ctx, "viewer@acme.example", f.password, "203.0.113.5"); !errors.As(err, &te) {
			t.Errorf("the right password from a locked address: %v", err)
		}
	})
}

func TestSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	id, exp, err := f.store.CreateSession(ctx, f.adminA, f.orgA.ID, "192.0.2.1:1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(f.clock.Now().Add(SessionTTL)) {
		t.Errorf("expires %v", exp)
	}
	s, err := f.store.SessionByID(ctx, id)
	if err != nil || s.Principal.UserID != f.adminA.ID || s.Principal.OrganisationID != f.orgA.ID || s.CSRF == "" {
		t.Fatalf("session: %+v %v", s, err)
	}
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM sessions WHERE id_hash = convert_to($1, 'UTF8')`, id); err != nil || n != 0 {
		t.Error("the session ID is stored in clear")
	}
	f.clock.Advance(SessionTTL)
	if _, err := f.store.SessionByID(ctx, id); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("an expired session: %v", err)
	}
	if n, err := f.store.DeleteExpired(ctx); err != nil || n < 1 {
		t.Errorf("DeleteExpired: %d %v", n, err)
	}
	t.Run("a new password signs the user out", func(t *testing.T) {
		id, _, _ := f.store.CreateSession(ctx, f.viewA, f.orgA.ID, "", "")
		if _, err := f.store.UpdateUser(f.ctxAs(f.adminA), f.orgA.ID, f.viewA.ID, UserInput{Password: ptr("another long password")}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.SessionByID(ctx, id); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("session after a password change: %v", err)
		}
	})
}

func TestTokenUseIsNotedOncePerMinute(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok, secret, err := f.store.CreateToken(f.ctxAs(f.adminA), f.orgA.ID, TokenInput{Name: "busy"}, "")
	if err != nil {
		t.Fatal(err)
	}
	first := f.clock.Now()
	use := func() time.Time {
		t.Helper()
		if _, err := f.store.AuthenticateToken(context.Background(), secret); err != nil {
			t.Fatal(err)
		}
		got, _ := f.store.GetToken(context.Background(), f.orgA.ID, tok.ID)
		return *got.LastUsedAt
	}
	if at := use(); !at.Equal(first) {
		t.Errorf("first use noted at %v, want %v", at, first)
	}
	f.clock.Advance(30 * time.Second)
	if at := use(); !at.Equal(first) {
		t.Errorf("a use 30 s later rewrote last_used_at to %v", at)
	}
	f.clock.Advance(30 * time.Second)
	if at := use(); !at.Equal(f.clock.Now()) {
		t.Errorf("a use a minute later noted at %v, want %v", at, f.clock.Now())
	}
}
