package cdr

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func TestListsAndCSV(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	org := newOrg(t, db, "Acme")
	other := newOrg(t, db, "Other")
	w := openWriter(t, db, Config{})
	// Three calls of Acme: a clean SIP call, a lossy WebRTC call with a
	// formula for a name, and one kicked; one call of Other.
	cs1, ls1, lq1, le1, ce1 := call(org, t0, "alice")
	submitCall(w, cs1, ls1, lq1, le1, ce1)
	cs2, ls2, lq2, le2, ce2 := call(org, t0.Add(time.Hour), "=HYPERLINK(\"http://evil\")")
	ls2.Protocol = "webrtc"
	le2.Quality.PacketsLost, le2.Quality.PacketsReceived = 500, 9500 // 5 %
	submitCall(w, cs2, ls2, lq2, le2, ce2)
	cs3, ls3, lq3, le3, ce3 := call(org, t0.Add(2*time.Hour), "carol")
	le3.Reason = "kicked"
	submitCall(w, cs3, ls3, lq3, le3, ce3)
	cs4, ls4, lq4, le4, ce4 := call(other, t0, "mallory")
	submitCall(w, cs4, ls4, lq4, le4, ce4)
	flush(t, w, "the calls")
	ctx := context.Background()

	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"all legs of the organisation, newest first", Filter{}, []string{ls3.ID, ls2.ID, ls1.ID}},
		{"a date range", Filter{From: t0.Add(30 * time.Minute), To: t0.Add(90 * time.Minute)}, []string{ls2.ID}},
		{"by protocol", Filter{Protocol: "webrtc"}, []string{ls2.ID}},
		{"by end reason", Filter{EndReason: "kicked"}, []string{ls3.ID}},
		{"loss above 2 %", Filter{MinLossPercent: 2}, []string{ls2.ID}},
		{"paged", Filter{Limit: 1, Offset: 1}, []string{ls2.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.OrganisationID = org
			legs, total, err := ListLegs(ctx, db, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range legs {
				got = append(got, l.ID)
			}
			if !equalStrings(got, tt.want) {
				t.Errorf("legs %v, want %v", got, tt.want)
			}
			if tt.f.Limit == 0 && total != len(tt.want) {
				t.Errorf("total %d, want %d", total, len(tt.want))
			}
		})
	}
	confs, total, err := ListConferences(ctx, db, Filter{OrganisationID: org, MinLossPercent: 2})
	if err != nil || total != 1 || len(confs) != 1 || confs[0].ID != cs2.ID || confs[0].Legs != 1 {
		t.Errorf("lossy conferences %+v (%d), %v; want only %s", confs, total, err, cs2.ID)
	}
	c, legs, err := GetConference(ctx, db, org, cs1.ID)
	if err != nil || c.RoomName != "Main" || len(legs) != 1 || *legs[0].DisplayName != "alice" {
		t.Errorf("conference %+v legs %d, %v", c, len(legs), err)
	}
	if _, _, err := GetConference(ctx, db, org, cs4.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("another organisation's conference: %v, want ErrNotFound", err)
	}
	if _, _, err := GetConference(ctx, db, org, "not-a-uuid"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a malformed ID: %v, want ErrNotFound", err)
	}

	all, _, err := ListLegs(ctx, db, Filter{OrganisationID: org})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteLegsCSV(&buf, all); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("CSV has %d rows, %v; want a header and 3", len(rows), err)
	}
	if name := rows[2][5]; name != `'=HYPERLINK("http://evil")` {
		t.Errorf("the formula name is written as %q, want it defused with an apostrophe", name)
	}
	if loss := rows[2][24]; loss != "5.00" {
		t.Errorf("loss percent %q, want 5.00", loss)
	}
	buf.Reset()
	if err := WriteConferencesCSV(&buf, confs); err != nil || bytes.Count(buf.Bytes(), []byte("\n")) != 2 {
		t.Errorf("conferences CSV %q, %v", buf.String(), err)
	}
}

// TestExportCSVReadsEveryPage exports more rows than one page holds: every
// leg and conference of the organisation arrives once, newest first, and
// none of another organisation's.
func TestExportCSVReadsEveryPage(t *testing.T) {
	defer func(n int) { exportPage = n }(exportPage)
	exportPage = 2
	db := pgtest.New(t)
	org := newOrg(t, db, "Acme")
	other := newOrg(t, db, "Other")
	w := openWriter(t, db, Config{})
	for i, name := range []string{"alice", "bob", "carol", "dave", "erin"} {
		cs, ls, lq, le, ce := call(org, t0.Add(time.Duration(i)*time.Hour), name)
		submitCall(w, cs, ls, lq, le, ce)
	}
	cs, ls, lq, le, ce := call(other, t0, "mallory")
	submitCall(w, cs, ls, lq, le, ce)
	flush(t, w, "the calls")
	ctx := context.Background()
	f := Filter{OrganisationID: org, Limit: 1, Offset: 3} // an export ignores paging

	want, _, err := ListLegs(ctx, db, Filter{OrganisationID: org})
	if err != nil || len(want) != 5 {
		t.Fatalf("ListLegs: %d legs, %v", len(want), err)
	}
	var buf bytes.Buffer
	if err := ExportLegsCSV(ctx, db, f, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[0])
	}
	var wantIDs []string
	for _, l := range want {
		wantIDs = append(wantIDs, l.ID)
	}
	if rows[0][0] != "id" || !equalStrings(got, wantIDs) {
		t.Errorf("exported legs %v (header %q), want %v", got, rows[0][0], wantIDs)
	}

	buf.Reset()
	if err := ExportConferencesCSV(ctx, db, f, &buf); err != nil {
		t.Fatal(err)
	}
	if rows, err := csv.NewReader(&buf).ReadAll(); err != nil || len(rows) != 6 {
		t.Errorf("conferences export has %d rows, %v; want a header and 5", len(rows), err)
	}
	if err := ExportLegsCSV(ctx, db, Filter{}, &buf); err == nil {
		t.Error("an export without an organisation succeeded")
	}
}
