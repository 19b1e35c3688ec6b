package cdr

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

const day = 24 * time.Hour

// storeCall writes one finished call that started at at, through a writer.
func storeCalls(t testing.TB, db *sqlx.DB, org string, names []string, starts ...time.Time) []string {
	t.Helper()
	w := openWriter(t, db, Config{})
	var legs []string
	for i, at := range starts {
		cs, ls, lq, le, ce := call(org, at, names[i%len(names)])
		submitCall(w, cs, ls, lq, le, ce)
		legs = append(legs, ls.ID)
	}
	flush(t, w, "the calls")
	return legs
}

func legJSON(t testing.TB, db *sqlx.DB, id string) map[string]any {
	t.Helper()
	var b []byte
	if err := db.Get(&b, `SELECT to_jsonb(l) FROM cdr_legs l WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func changedColumns(before, after map[string]any) []string {
	var out []string
	for k, v := range before {
		bv, _ := json.Marshal(v)
		av, _ := json.Marshal(after[k])
		if string(bv) != string(av) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func TestAnonymisation(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	acme := newOrg(t, db, "Acme")   // default retention, 90 days
	short := newOrg(t, db, "Short") // 30 days
	if _, err := db.Exec(`UPDATE organisations SET usage_retention = '30 days' WHERE id = $1`, short); err != nil {
		t.Fatal(err)
	}
	asOf := t0.Add(200 * day)
	acmeLegs := storeCalls(t, db, acme, []string{"alice"}, asOf.Add(-89*day), asOf.Add(-90*day), asOf.Add(-91*day))
	shortLegs := storeCalls(t, db, short, []string{"bob"}, asOf.Add(-29*day), asOf.Add(-31*day))
	before := map[string]map[string]any{}
	for _, id := range append(append([]string{}, acmeLegs...), shortLegs...) {
		before[id] = legJSON(t, db, id)
	}
	anonymisedAt := asOf.Add(time.Hour)
	var hookCalls sync.Map
	r := &Retention{DB: db, BatchSize: 2, Now: func() time.Time { return anonymisedAt }, Extra: []Anonymiser{{
		Name: "phonebook_requests",
		Run: func(ctx context.Context, db *sqlx.DB, org string, cutoff time.Time, dryRun bool) (int64, error) {
			hookCalls.Store(org, cutoff)
			return 0, nil
		},
	}}}

	dry, err := r.Run(context.Background(), asOf, true)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Totals["legs"] != 3 {
		t.Errorf("dry run counts %d legs, want 3", dry.Totals["legs"])
	}
	if n := count(t, db, `SELECT count(*) FROM cdr_legs WHERE anonymised_at IS NOT NULL`); n != 0 {
		t.Fatalf("the dry run anonymised %d legs", n)
	}

	rep, err := r.Run(context.Background(), asOf, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Totals["legs"] != 3 || rep.Totals["conferences"] != 3 {
		t.Errorf("totals %v, want 3 legs and 3 conferences", rep.Totals)
	}
	want := []string{"anonymised_at", "call_id", "display_name", "remote_ip", "remote_port", "remote_uri", "user_agent"}
	cases := []struct {
		name       string
		id         string
		anonymised bool
	}{
		{"a leg of 89 days is kept", acmeLegs[0], false},
		{"a leg of exactly 90 days is anonymised", acmeLegs[1], true},
		{"a leg of 91 days is anonymised", acmeLegs[2], true},
		{"a leg of 29 days under a 30-day retention is kept", shortLegs[0], false},
		{"a leg of 31 days under a 30-day retention is anonymised", shortLegs[1], true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			after := legJSON(t, db, c.id)
			changed := changedColumns(before[c.id], after)
			if !c.anonymised {
				if len(changed) != 0 {
					t.Errorf("columns %v changed", changed)
				}
				return
			}
			if !equalStrings(changed, want) {
				t.Errorf("changed columns %v, want exactly %v", changed, want)
			}
			for _, col := range identifyingColumns {
				if after[col] != nil {
					t.Errorf("%s = %v, want NULL", col, after[col])
				}
			}
			if after["duration"] == nil || after["audio_codec"] != "PCMU/8000" || after["packets_lost"] != float64(100) {
				t.Errorf("kept columns lost: %v", after)
			}
		})
	}
	if v, ok := hookCalls.Load(short); !ok || !v.(time.Time).Equal(asOf.Add(-30*day)) {
		t.Errorf("the request-log hook was called for Short with cutoff %v, want %v", v, asOf.Add(-30*day))
	}
	if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'cdr.anonymise'`); n != 2 {
		t.Errorf("%d audit entries, want one per organisation", n)
	}
	var summary []byte
	if err := db.Get(&summary, `SELECT summary FROM audit_log WHERE action = 'cdr.anonymise' AND organisation_id = $1`, acme); err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	_ = json.Unmarshal(summary, &s)
	if s["legs"] != float64(2) {
		t.Errorf("audit summary %s, want legs 2", summary)
	}

	t.Run("a second run changes nothing", func(t *testing.T) {
		snapshot := legJSON(t, db, acmeLegs[2])
		rep, err := r.Run(context.Background(), asOf, false)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Totals["legs"] != 0 {
			t.Errorf("second run anonymised %d legs", rep.Totals["legs"])
		}
		if ch := changedColumns(snapshot, legJSON(t, db, acmeLegs[2])); len(ch) != 0 {
			t.Errorf("second run changed %v", ch)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'cdr.anonymise'`); n != 2 {
			t.Errorf("%d audit entries after a run with nothing to do, want still 2", n)
		}
	})
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTwoConcurrentAnonymisations(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	org := newOrg(t, db, "Acme")
	const legs = 300
	seedLegs(t, db, org, legs, t0.Add(-100*day))
	var wg sync.WaitGroup
	totals := make([]int64, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			r := &Retention{DB: db, BatchSize: 7, Now: func() time.Time { return t0 }}
			rep, err := r.Run(context.Background(), t0, false)
			totals[i], errs[i] = rep.Totals["legs"], err
		})
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if totals[0]+totals[1] != legs {
		t.Errorf("the runs anonymised %d + %d legs, want %d in all", totals[0], totals[1], legs)
	}
	if n := count(t, db, `SELECT count(*) FROM cdr_legs WHERE anonymised_at IS NULL OR display_name IS NOT NULL`); n != 0 {
		t.Errorf("%d legs left with personal data", n)
	}
}

// seedLegs inserts n ended legs of one conference with generate_series.
func seedLegs(t testing.TB, db *sqlx.DB, org string, n int, at time.Time) {
	t.Helper()
	conf := uuid(1)
	if _, err := db.Exec(`INSERT INTO cdr_conferences (id, organisation_id, room_name, started_at, ended_at) VALUES ($1, $2, 'Main', $3, $3)`, conf, org, at); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`
		INSERT INTO cdr_legs (id, conference_id, organisation_id, direction, protocol, transport, display_name, remote_uri,
			remote_ip, remote_port, user_agent, call_id, started_at, answered_at, ended_at, duration, end_reason, audio_codec,
			packets_sent, packets_received, packets_lost)
		SELECT gen_random_uuid(), $1, $2, 'in', 'sip', 'udp', 'Person ' || i, 'sip:p' || i || '@example.com',
			'192.0.2.1'::inet + (i % 250), 5060 + (i % 1000), 'Cisco/CE', 'call-' || i, $3::timestamptz, $3::timestamptz, $3::timestamptz + interval '10 minutes',
			interval '10 minutes', 'hung_up', 'PCMU/8000', 30000, 29900, 100
		FROM generate_series(1, $4) AS i`, conf, org, at, n); err != nil {
		t.Fatal(err)
	}
}
