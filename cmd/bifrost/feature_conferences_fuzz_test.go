package main

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzConferenceBody feeds the mute and lock API's body reader arbitrary
// bytes: it never panics, and what it accepts is exactly one boolean field of
// the expected name.
func FuzzConferenceBody(f *testing.F) {
	for _, s := range []string{`{"muted": true}`, `{"muted": false}`, `{}`, `{"muted": "yes"}`, `{"muted": true, "x": 1}`, `null`, `{"muted": null}`, `[true]`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/api/v1/conferences/x/participants/y/mute", strings.NewReader(body))
		got, err := readBool(httptest.NewRecorder(), r, "muted")
		if err != nil {
			return
		}
		var m map[string]bool
		if json.NewDecoder(strings.NewReader(body)).Decode(&m) != nil || len(m) != 1 || m["muted"] != got {
			t.Errorf("accepted %q as muted=%v", body, got)
		}
	})
}
