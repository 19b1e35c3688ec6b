package directory

import (
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func TestSchedulerRunsSourcesWhenTheirIntervalHasPassed(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	st := NewStore(db, clock.Now)
	org := newOrg(t, db, "Acme")
	// Nothing listens on port 1: runs fail at once, and a failed run counts as a run.
	every15 := SourceInput{Source: Source{Name: "every 15m", URL: "ldap://127.0.0.1:1", BaseDNs: []string{"dc=acme,dc=example"}, Interval: 15 * time.Minute}}
	manual := SourceInput{Source: Source{Name: "manual", URL: "ldap://127.0.0.1:1", BaseDNs: []string{"dc=acme,dc=example"}}}
	for _, in := range []SourceInput{every15, manual} {
		if _, err := st.CreateSource(ctxT(t), org, in, nil); err != nil {
			t.Fatal(err)
		}
	}
	sc := NewScheduler(NewSyncer(st, nil, nil), time.Minute, nil)
	steps := []struct {
		name    string
		advance time.Duration
		want    int
	}{
		{"a source never run is due at once", 0, 1},
		{"it is not due again right after", 0, 0},
		{"nor 14 minutes later", 14 * time.Minute, 0},
		{"but 15 minutes after its last run", time.Minute, 1},
		{"and not a second time in that minute", 59 * time.Second, 0},
	}
	for _, s := range steps {
		clock.t = clock.t.Add(s.advance)
		reps, err := sc.RunDue(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(reps) != s.want {
			t.Fatalf("%s: %d runs, want %d", s.name, len(reps), s.want)
		}
		for _, r := range reps {
			if r.Source != "every 15m" || r.Status != RunFailed {
				t.Errorf("%s: ran %+v", s.name, r)
			}
		}
	}
	if err := sc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sc.Close(); err != nil {
		t.Fatal("Close is not idempotent")
	}
}
