package phonebook

import (
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// TestRequestLogIsBoundedWhileTheDatabaseIsAway logs into a database that
// does not answer: Log never blocks, memory stays bounded (the oldest rows
// are dropped and counted) and Close returns.
func TestRequestLogIsBoundedWhileTheDatabaseIsAway(t *testing.T) {
	db, err := sqlx.Open("postgres", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := NewRequestLog(db, RequestLogConfig{FlushInterval: time.Millisecond, BatchSize: 5, MaxPending: 10}, nil)
	for i := 0; i < 1000; i++ {
		l.Log(Request{At: time.Now(), OrganisationID: "00000000-0000-0000-0000-000000000000", Protocol: ProtocolTMS})
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Dropped() != 1000 || l.Written() != 0 {
		t.Errorf("dropped %d, written %d; want 1000 and 0", l.Dropped(), l.Written())
	}
	l.Log(Request{}) // after Close: dropped, no panic
	if l.Dropped() != 1001 {
		t.Errorf("a request logged after Close: dropped %d", l.Dropped())
	}
}

// TestRequestLogWritesEverythingOnClose logs many requests and closes at
// once: nothing is lost, and rows the database refuses (an organisation
// that is gone, text with NUL and invalid UTF-8) do not hold up the others.
func TestRequestLogWritesEverythingOnClose(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Alpha")
	l := NewRequestLog(db, RequestLogConfig{FlushInterval: time.Hour, BatchSize: 100}, nil)
	for i := 0; i < 950; i++ {
		l.Log(Request{At: time.Now(), OrganisationID: org, Protocol: ProtocolYealink, SearchString: "a\x00b\xff"})
	}
	l.Log(Request{At: time.Now(), OrganisationID: "00000000-0000-0000-0000-000000000000", Protocol: ProtocolTMS})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM phonebook_requests WHERE search_string = 'ab' || chr(65533)`); err != nil || n != 950 {
		t.Errorf("%d rows written (%v), want 950", n, err)
	}
	if l.Written() != 950 || l.Dropped() != 1 {
		t.Errorf("written %d, dropped %d; want 950 and 1", l.Written(), l.Dropped())
	}
}

// TestRequestLogKeepsABurstBeyondItsQueue logs more requests at once than
// the queue holds, faster than the writer takes them: the log is usage data,
// so every one is written, none dropped.
func TestRequestLogKeepsABurstBeyondItsQueue(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Alpha")
	l := NewRequestLog(db, RequestLogConfig{FlushInterval: time.Hour, BatchSize: 1000}, nil)
	const n = 3 * queueSize
	for i := 0; i < n; i++ {
		l.Log(Request{At: time.Now(), OrganisationID: org, Protocol: ProtocolTMS, ResultCount: i})
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var rows, distinct int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT result_count) FROM phonebook_requests`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != n || distinct != n || l.Dropped() != 0 {
		t.Errorf("%d rows (%d distinct) written, %d dropped; want all %d written", rows, distinct, l.Dropped(), n)
	}
}

// TestRequestLogRowsRoundTrip: what the writer encodes for COPY is what
// the table holds, column by column: text with the characters COPY's text
// format escapes (backslash, tab, newline, carriage return, a literal
// "\N"), non-ASCII text, empty text (not NULL), the absent token as NULL
// and a present one, integers, the duration in microseconds and the time
// to the microsecond.
func TestRequestLogRowsRoundTrip(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Alpha")
	tok, _, err := NewTokens(db, nil).Create(ctxT(t), org, TokenInput{}, "")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 18, 30, 1, 123456789, time.FixedZone("CET", 3600))
	tricky := "a\\b\tc\nd\re \\N f 'g' \"h\" Øvrebø 张 \\\\"
	in := []Request{
		{At: at, OrganisationID: org, TokenID: tok.ID, Protocol: ProtocolTMS, Operation: "Search", HTTPStatus: 200,
			Error: tricky, ClientIP: "192.0.2.1", ForwardedFor: "198.51.100.7, 10.0.0.1", SearchString: tricky,
			SearchPath: "c_x", FolderPath: "People/Oslo", MaxResult: 50, StartFrom: "e_1", ResultCount: 7, Total: 70000,
			Duration: 1234567 * time.Nanosecond, UserAgent: tricky, BindName: "cn=x,dc=y",
			Identification: Identification{SystemName: "Room\t1", MACAddress: "aa:bb", IPAddress: "10.0.0.2", IPAddressV6: "fe80::1",
				ProductType: "Cisco Codec", ProductID: "Room Kit", SWVersion: "ce11", HWBoard: "", SerialNumber: "FOC\\1"}},
		{At: at.Add(time.Second), OrganisationID: org, Protocol: ProtocolLDAP},
	}
	l := NewRequestLog(db, RequestLogConfig{FlushInterval: time.Hour}, nil)
	for _, r := range in {
		l.Log(r)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	type row struct {
		At                                                                         time.Time
		Token                                                                      *string
		Protocol, Operation, Error, ClientIP, ForwardedFor, ReportedIP, ReportedV6 string
		SearchString, SearchPath, FolderPath, StartFrom, SystemName, MAC           string
		ProductType, ProductID, SWVersion, HWBoard, Serial, UserAgent, BindName    string
		Status, MaxResult, Count, Total                                            int
		DurationUS                                                                 int64
	}
	rows, err := db.Query(`SELECT at, token_id, protocol, operation, error, client_ip, forwarded_for, reported_ip, reported_ipv6,
		search_string, search_path, folder_path, start_from, system_name, mac_address, product_type, product_id, sw_version,
		hw_board, serial_number, user_agent, bind_name, http_status, max_result, result_count, total, duration_us
		FROM phonebook_requests ORDER BY at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.At, &r.Token, &r.Protocol, &r.Operation, &r.Error, &r.ClientIP, &r.ForwardedFor, &r.ReportedIP, &r.ReportedV6,
			&r.SearchString, &r.SearchPath, &r.FolderPath, &r.StartFrom, &r.SystemName, &r.MAC, &r.ProductType, &r.ProductID, &r.SWVersion,
			&r.HWBoard, &r.Serial, &r.UserAgent, &r.BindName, &r.Status, &r.MaxResult, &r.Count, &r.Total, &r.DurationUS); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 2 {
		t.Fatalf("%d rows, want 2", len(got))
	}
	r := got[0]
	want := row{At: at.Truncate(time.Microsecond), Token: &tok.ID, Protocol: ProtocolTMS, Operation: "Search", Error: tricky,
		ClientIP: "192.0.2.1", ForwardedFor: "198.51.100.7, 10.0.0.1", ReportedIP: "10.0.0.2", ReportedV6: "fe80::1",
		SearchString: tricky, SearchPath: "c_x", FolderPath: "People/Oslo", StartFrom: "e_1", SystemName: "Room\t1", MAC: "aa:bb",
		ProductType: "Cisco Codec", ProductID: "Room Kit", SWVersion: "ce11", Serial: "FOC\\1", UserAgent: tricky, BindName: "cn=x,dc=y",
		Status: 200, MaxResult: 50, Count: 7, Total: 70000, DurationUS: 1234}
	if !r.At.Equal(want.At) || r.Token == nil || *r.Token != tok.ID {
		t.Errorf("at %v token %v; want %v and %s", r.At, r.Token, want.At, tok.ID)
	}
	r.At, r.Token, want.At, want.Token = time.Time{}, nil, time.Time{}, nil
	if r != want {
		t.Errorf("row\n%+v\nwant\n%+v", r, want)
	}
	if got[1].Token != nil || got[1].Protocol != ProtocolLDAP || got[1].SearchString != "" || !got[1].At.Equal(at.Add(time.Second).Truncate(time.Microsecond)) {
		t.Errorf("second row %+v: want no token, empty text", got[1])
	}
}
