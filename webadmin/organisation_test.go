package webadmin

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestTimeZone sets an organisation's time zone through the API and the
// settings page: the organisation answers it, the change is audited once, and
// the audit page shows its times in that zone and reads its date filters as
// that zone's days.
func TestTimeZone(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	if status, o := e.do(t, e.viewTokA, "GET", "/api/v1/organisation", nil); status != 200 || o["time_zone"] != "UTC" || o["id"] != e.orgA.ID {
		t.Fatalf("a new organisation: %d %v, want UTC", status, o)
	}
	status, o := e.do(t, e.adminTokA, "PATCH", "/api/v1/organisation", map[string]any{"time_zone": "Asia/Tokyo"})
	if status != 200 || o["time_zone"] != "Asia/Tokyo" {
		t.Fatalf("PATCH: %d %v", status, o)
	}
	if _, o := e.do(t, e.tokB, "GET", "/api/v1/organisation", nil); o["time_zone"] != "UTC" {
		t.Errorf("organisation B's zone became %v", o["time_zone"])
	}
	// The same zone again changes nothing and is not audited again.
	e.do(t, e.adminTokA, "PATCH", "/api/v1/organisation", map[string]any{"time_zone": "Asia/Tokyo"})
	_, l := e.do(t, e.viewTokA, "GET", "/api/v1/audit?action=organisation.update", nil)
	if items := l["items"].([]any); len(items) != 1 || !strings.Contains(mustJSON(items[0]), `"to":"Asia/Tokyo"`) {
		t.Errorf("audit of the change: %s", mustJSON(l))
	}

	sess := e.sessionFor(t, e.adminA)
	rec := e.page(t, sess, "GET", "/admin/settings", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `value="Asia/Tokyo"`) {
		t.Fatalf("settings page: %d\n%s", rec.Code, rec.Body)
	}
	if rec := e.page(t, sess, "POST", "/admin/settings", map[string]string{"time_zone": "Nowhere/Special"}); rec.Code != http.StatusBadRequest ||
		!strings.Contains(rec.Body.String(), "IANA time zone") {
		t.Errorf("a bad zone on the page: %d", rec.Code)
	}
	if rec := e.page(t, sess, "POST", "/admin/settings", map[string]string{"time_zone": "Europe/Oslo"}); rec.Code != http.StatusSeeOther {
		t.Fatalf("saving the page: %d\n%s", rec.Code, rec.Body)
	}

	// The audit entry of the last change, at the store's clock: its time on
	// the page is in Oslo's zone, and a date filter is an Oslo day.
	_, l = e.do(t, e.viewTokA, "GET", "/api/v1/audit?action=organisation.update&limit=1", nil)
	at := l["items"].([]any)[0].(map[string]any)["at"].(string)
	when, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		t.Fatal(err)
	}
	oslo := LoadLocation("Europe/Oslo")
	rec = e.page(t, sess, "GET", "/admin/audit?action=organisation.update", nil)
	if body := rec.Body.String(); !strings.Contains(body, "Time (Europe/Oslo)") || !strings.Contains(body, when.In(oslo).Format("2006-01-02 15:04:05")) {
		t.Errorf("the audit page does not show %s in Oslo time:\n%s", when, body)
	}
	day := when.In(oslo).Format("2006-01-02")
	if rec := e.page(t, sess, "GET", "/admin/audit?action=organisation.update&from="+day+"&to="+day, nil); !strings.Contains(rec.Body.String(), "organisation.update") {
		t.Errorf("filtering on the Oslo day %s loses the entry", day)
	}
}

// TestAuditFilterDaysInZone: a date filter is a day of the organisation's
// zone, daylight saving time included.
func TestAuditFilterDaysInZone(t *testing.T) {
	oslo := LoadLocation("Europe/Oslo")
	for _, tt := range []struct {
		from, to         string
		wantFrom, wantTo time.Time
	}{
		{"2026-03-02", "2026-03-02", time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC)},
		// 29 March 2026 has 23 hours in Oslo (summer time starts).
		{"2026-03-29", "2026-03-29", time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 22, 0, 0, 0, time.UTC)},
		{"2026-03-02T05:00:00Z", "", time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC), time.Time{}},
	} {
		f, err := auditFilter("org", oslo, url.Values{"from": {tt.from}, "to": {tt.to}})
		if err != nil || !f.From.Equal(tt.wantFrom) || !f.To.Equal(tt.wantTo) {
			t.Errorf("from %s to %s: [%s, %s) %v, want [%s, %s)", tt.from, tt.to, f.From.UTC(), f.To.UTC(), err, tt.wantFrom, tt.wantTo)
		}
	}
}
