package webadmin

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzRoomInput feeds the API's room body parser and validation arbitrary
// bytes: it must answer a ValidationError or a valid input, never panic, and a
// valid input must respect the schema's rules.
func FuzzRoomInput(f *testing.F) {
	for _, s := range []string{
		`{"name":"Board room","alias":"1234","name_alias":"board.room","host_pin":"123456","guest_pin":"4321","max_participants":10,"owner":"Ann"}`,
		`{"name":"x","alias":"1"}`, `{"alias":"12a"}`, `{"host_pin":""}`, `{"max_participants":-1}`, `{"name":`, `[]`, `null`,
		`{"name":"x","alias":"1"} {"more":1}`, `{"name_alias":"12345"}`, `{"guests_wait_for_host":"yes"}`,
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, body string, create bool) {
		req := httptest.NewRequest("POST", "/api/v1/rooms", strings.NewReader(body))
		var in RoomInput
		err := decodeJSON(req, &in)
		if err == nil {
			err = in.validate(create)
		}
		var v *ValidationError
		if err != nil {
			if !errors.As(err, &v) || v.Field == "" {
				t.Fatalf("error %v is not a ValidationError with a field", err)
			}
			return
		}
		if in.Alias != nil && !aliasRE.MatchString(*in.Alias) {
			t.Errorf("accepted alias %q", *in.Alias)
		}
		for _, pin := range []*string{in.HostPIN, in.GuestPIN} {
			if pin != nil && *pin != "" && !pinRE.MatchString(*pin) {
				t.Errorf("accepted PIN %q", *pin)
			}
		}
		if create && (in.Name == nil || *in.Name == "" || in.Alias == nil) {
			t.Errorf("accepted a create without name or alias: %+v", in)
		}
	})
}

// FuzzAuditFilter feeds the audit log's query parser arbitrary queries.
func FuzzAuditFilter(f *testing.F) {
	for _, s := range []string{"from=2026-01-01&to=2026-12-31&action=room.", "from=2026-01-01T10:00:00Z", "action=DROP", "actor=%25", "limit=-1", "from=yesterday"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		fl, err := auditFilter("00000000-0000-0000-0000-000000000000", LoadLocation("Europe/Oslo"), q)
		var v *ValidationError
		if err != nil && !errors.As(err, &v) {
			t.Fatalf("error %v is not a ValidationError", err)
		}
		if err == nil && fl.Action != "" && !auditActionRE.MatchString(fl.Action) {
			t.Errorf("accepted action %q", fl.Action)
		}
		req := &http.Request{URL: &url.URL{Path: "/", RawQuery: raw}}
		if _, err := pageParams(req); err != nil && !errors.As(err, &v) {
			t.Fatalf("page params: %v", err)
		}
	})
}
