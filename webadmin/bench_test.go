package webadmin

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkHashPassword is the cost of one argon2id hash with the default
// parameters (what every sign-in pays), next to SHA-256 of the same password as
// the reference of a fast hash.
func BenchmarkHashPassword(b *testing.B) {
	b.Run("argon2id default", func(b *testing.B) {
		for b.Loop() {
			if _, err := HashPassword("correct horse battery", DefaultPasswordParams); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reference sha256", func(b *testing.B) {
		for b.Loop() {
			sha256.Sum256([]byte("correct horse battery"))
		}
	})
}

// BenchmarkAPIListRooms is an authenticated GET /api/v1/rooms of 20 rooms through
// the whole handler chain (token check, query, JSON), next to a bare SELECT 1 on
// the same database as the reference round trip.
func BenchmarkAPIListRooms(b *testing.B) {
	e := newAPIEnv(b)
	for i := range 20 {
		a := 5000 + i
		if _, err := e.store.CreateRoom(e.ctxAs(e.adminA), e.orgA.ID, RoomInput{Name: ptr("Room"), Alias: ptr(itoa(a)), HostPIN: ptr("1234")}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("GET /api/v1/rooms", func(b *testing.B) {
		for b.Loop() {
			req := httptest.NewRequest("GET", "/api/v1/rooms", nil)
			req.Header.Set("Authorization", "Bearer "+e.adminTokA)
			rec := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatal(rec.Code)
			}
		}
	})
	b.Run("reference SELECT 1", func(b *testing.B) {
		for b.Loop() {
			var n int
			if err := e.srv.store.db.GetContext(context.Background(), &n, `SELECT 1`); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
