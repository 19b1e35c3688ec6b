package phonebook

import (
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// TestAnonymiserClearsOldRequests writes requests of two ages through the
// request log and anonymises with an injected clock: only the old rows of
// the organisation lose their personal data, once.
func TestAnonymiserClearsOldRequests(t *testing.T) {
	db := pgtest.New(t)
	a, b := newOrg(t, db, "Alpha"), newOrg(t, db, "Beta")
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	l := NewRequestLog(db, RequestLogConfig{}, nil)
	id := Identification{SystemName: "Anne's Desk", MACAddress: "aa:bb:cc:dd:ee:ff", SerialNumber: "FOC1", IPAddress: "10.0.0.1", SWVersion: "ce11.9", ProductID: "Desk Pro"}
	for _, r := range []Request{
		{At: now.AddDate(0, 0, -100), OrganisationID: a, Protocol: ProtocolTMS, Operation: "Search", ClientIP: "192.0.2.1", SearchString: "anne", Identification: id},
		{At: now.AddDate(0, 0, -10), OrganisationID: a, Protocol: ProtocolTMS, Operation: "Search", ClientIP: "192.0.2.2", SearchString: "berg", Identification: id},
		{At: now.AddDate(0, 0, -100), OrganisationID: b, Protocol: ProtocolYealink, ClientIP: "192.0.2.3", UserAgent: "Yealink SIP-T46S 00:15:65:00:00:01"},
	} {
		l.Log(r)
	}
	if err := l.Close(); err != nil || l.Written() != 3 {
		t.Fatalf("close: %v, written %d", err, l.Written())
	}
	an := Anonymiser{Now: func() time.Time { return now }, BatchSize: 1}
	cutoff := now.AddDate(0, 0, -90)
	if n, err := an.Run(ctxT(t), db, a, cutoff, true); err != nil || n != 1 {
		t.Fatalf("dry run: %d, %v; want 1", n, err)
	}
	if n, err := an.Run(ctxT(t), db, a, cutoff, false); err != nil || n != 1 {
		t.Fatalf("run: %d, %v; want 1", n, err)
	}
	if n, err := an.Run(ctxT(t), db, a, cutoff, false); err != nil || n != 0 {
		t.Fatalf("second run: %d, %v; want 0", n, err)
	}
	type row struct {
		Org, ClientIP, Search, System, MAC, Serial, ReportedIP, UA, SW, Product string
		Anon                                                                    *time.Time
	}
	rows := map[string]row{}
	rs, err := db.Query(`SELECT organisation_id, client_ip, search_string, system_name, mac_address, serial_number, reported_ip,
		user_agent, sw_version, product_id, anonymised_at FROM phonebook_requests`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.Org, &r.ClientIP, &r.Search, &r.System, &r.MAC, &r.Serial, &r.ReportedIP, &r.UA, &r.SW, &r.Product, &r.Anon); err != nil {
			t.Fatal(err)
		}
		key := r.Org + "/" + r.Search
		if r.Org == a && r.Anon != nil {
			key = "a-old"
		}
		rows[key] = r
	}
	old := rows["a-old"]
	if old.Anon == nil || !old.Anon.Equal(now) || old.ClientIP != "" || old.Search != "" || old.System != "" || old.MAC != "" ||
		old.Serial != "" || old.ReportedIP != "" || old.SW != "ce11.9" || old.Product != "Desk Pro" {
		t.Errorf("old row of A: %+v", old)
	}
	if recent := rows[a+"/berg"]; recent.Anon != nil || recent.ClientIP != "192.0.2.2" || recent.System != "Anne's Desk" {
		t.Errorf("recent row of A: %+v", recent)
	}
	if other := rows[b+"/"]; other.Anon != nil || other.UA == "" {
		t.Errorf("old row of B (not asked): %+v", other)
	}

	// Subject access and erasure find the recent row by the system name.
	got, err := ExportSubject(ctxT(t), db, a, Subject{Lower: "anne's desk"})
	if err != nil || len(got) != 1 {
		t.Fatalf("export: %d rows, %v", len(got), err)
	}
	tx := db.MustBegin()
	n, err := EraseSubject(ctxT(t), tx, a, Subject{Lower: "anne's desk"}, now)
	if err != nil || n != 1 {
		t.Fatalf("erase: %d, %v", n, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := ExportSubject(ctxT(t), db, a, Subject{Lower: "anne's desk"}); len(got) != 0 {
		t.Errorf("after erasure the export still finds %d rows", len(got))
	}
}

// TestRequestsAndEndpoints filters the log and groups it per endpoint.
func TestRequestsAndEndpoints(t *testing.T) {
	db := pgtest.New(t)
	a, b := newOrg(t, db, "Alpha"), newOrg(t, db, "Beta")
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	l := NewRequestLog(db, RequestLogConfig{}, nil)
	sx := Identification{SystemName: "Oslo-Fjordsalen", MACAddress: "08:96:ad:3c:11:07", ProductID: "Cisco Webex Room Kit Pro"}
	old, cur := sx, sx
	old.SWVersion, cur.SWVersion = "ce9.15.3", "ce11.9.2"
	for _, r := range []Request{
		{At: t0, OrganisationID: a, Protocol: ProtocolTMS, Operation: "Search", HTTPStatus: 200, ClientIP: "192.0.2.1", Identification: old},
		{At: t0.Add(time.Hour), OrganisationID: a, Protocol: ProtocolTMS, Operation: "Search", HTTPStatus: 200, ClientIP: "192.0.2.9", Identification: cur},
		{At: t0.Add(2 * time.Hour), OrganisationID: a, Protocol: ProtocolTMS, Operation: "", HTTPStatus: 500, Error: "malformed", ClientIP: "192.0.2.9", Identification: cur},
		{At: t0.Add(3 * time.Hour), OrganisationID: a, Protocol: ProtocolYealink, HTTPStatus: 200, ClientIP: "192.0.2.5", UserAgent: "Yealink SIP-T46S 66.85.0.5"},
		{At: t0, OrganisationID: b, Protocol: ProtocolTMS, HTTPStatus: 200, ClientIP: "192.0.2.7", Identification: Identification{SystemName: "Beta room"}},
	} {
		l.Log(r)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rs, err := Requests(ctxT(t), db, a, RequestFilter{})
	if err != nil || len(rs) != 4 || rs[0].Protocol != ProtocolYealink {
		t.Fatalf("all of A: %d rows, %v", len(rs), err)
	}
	for _, tt := range []struct {
		name string
		f    RequestFilter
		want int
	}{
		{"by protocol", RequestFilter{Protocol: ProtocolTMS}, 3},
		{"failed only", RequestFilter{Failed: true}, 1},
		{"by endpoint name", RequestFilter{Endpoint: "fjordsalen"}, 3},
		{"by MAC", RequestFilter{Endpoint: "08:96:AD"}, 3},
		{"by time", RequestFilter{Since: t0.Add(30 * time.Minute), Until: t0.Add(150 * time.Minute)}, 2},
		{"a LIKE wildcard is text", RequestFilter{Endpoint: "%"}, 0},
		{"paged", RequestFilter{Limit: 2, BeforeID: rs[1].ID}, 2},
	} {
		got, err := Requests(ctxT(t), db, a, tt.f)
		if err != nil || len(got) != tt.want {
			t.Errorf("%s: %d rows (%v), want %d", tt.name, len(got), err, tt.want)
		}
	}
	eps, err := Endpoints(ctxT(t), db, a, time.Time{})
	if err != nil || len(eps) != 2 {
		t.Fatalf("endpoints: %+v, %v", eps, err)
	}
	yl, rk := eps[0], eps[1]
	if yl.UserAgent != "Yealink SIP-T46S 66.85.0.5" || yl.Requests != 1 {
		t.Errorf("Yealink endpoint: %+v", yl)
	}
	if rk.MACAddress != "08:96:ad:3c:11:07" || rk.SWVersion != "ce11.9.2" || rk.LastIP != "192.0.2.9" || rk.Requests != 3 || rk.Failed != 1 ||
		!rk.FirstSeen.Equal(t0) {
		t.Errorf("Room Kit endpoint: %+v", rk)
	}
}
