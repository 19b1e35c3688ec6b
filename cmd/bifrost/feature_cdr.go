package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/cdr"
	"github.com/bifrost-video/bifrost/webadmin"
)

// cdrFeature is the call records' part of the REST API, mounted in the web
// admin with its authentication and role checks: conference and leg lists
// (paged, filtered, as JSON or CSV) and one conference with its legs, always
// of the principal's organisation.
func cdrFeature(db *sqlx.DB) webadmin.Feature {
	a := cdrAPI{db: db}
	pages, nav := cdrPageRoutes(db, time.Now) // feature_cdr_pages.go
	return webadmin.Feature{
		Name: "cdr",
		Routes: append([]webadmin.Route{
			{Pattern: "GET /api/v1/cdr/conferences", Access: webadmin.AccessRead, Handler: http.HandlerFunc(a.listConferences)},
			{Pattern: "GET /api/v1/cdr/conferences/{id}", Access: webadmin.AccessRead, Handler: http.HandlerFunc(a.getConference)},
			{Pattern: "GET /api/v1/cdr/legs", Access: webadmin.AccessRead, Handler: http.HandlerFunc(a.listLegs)},
			{Pattern: "POST /api/v1/privacy/export", Access: webadmin.AccessWrite, Handler: http.HandlerFunc(a.privacyExport)},
			{Pattern: "POST /api/v1/privacy/erase", Access: webadmin.AccessWrite, Handler: http.HandlerFunc(a.privacyErase)},
		}, pages...),
		Nav:          nav,
		OpenAPIPaths: []byte(cdrOpenAPI),
	}
}

type cdrAPI struct{ db *sqlx.DB }

// privacyRequest is the body of the privacy API's requests.
type privacyRequest struct {
	Subject string `json:"subject"`
	Confirm bool   `json:"confirm"`
}

// readPrivacyRequest decodes the body strictly and parses the subject.
func readPrivacyRequest(w http.ResponseWriter, r *http.Request) (string, cdr.Subject, bool, error) {
	p, _ := webadmin.PrincipalFrom(r.Context())
	if p.OrganisationID == "" {
		return "", cdr.Subject{}, false, fieldError{"organisation", "must be selected"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	var in privacyRequest
	if err := dec.Decode(&in); err != nil {
		return "", cdr.Subject{}, false, fieldError{"body", "must be {\"subject\": …}: " + err.Error()}
	}
	s, err := cdr.ParseSubject(in.Subject)
	if err != nil {
		return "", cdr.Subject{}, false, fieldError{"subject", "is required"}
	}
	return p.OrganisationID, s, in.Confirm, nil
}

// privacyExport answers a subject access request (GDPR art. 15).
func (a cdrAPI) privacyExport(w http.ResponseWriter, r *http.Request) {
	org, s, _, err := readPrivacyRequest(w, r)
	if err != nil {
		a.fail(w, err)
		return
	}
	exp, err := (&cdr.Privacy{DB: a.db, Sources: cdrHooks().Sources}).Export(r.Context(), org, s)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeAPI(w, http.StatusOK, exp)
}

// privacyErase answers an erasure request (GDPR art. 17); it needs
// "confirm": true.
func (a cdrAPI) privacyErase(w http.ResponseWriter, r *http.Request) {
	org, s, confirm, err := readPrivacyRequest(w, r)
	if err == nil && !confirm {
		err = fieldError{"confirm", "must be true: erasure cannot be undone"}
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	counts, err := (&cdr.Privacy{DB: a.db, Sources: cdrHooks().Sources}).Erase(r.Context(), org, s)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeAPI(w, http.StatusOK, map[string]any{"erased": counts})
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

func writeAPI(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeAPIErr(w http.ResponseWriter, status int, code, field, msg string) {
	var e apiError
	e.Error.Code, e.Error.Field, e.Error.Message = code, field, msg
	writeAPI(w, status, e)
}

type fieldError struct{ field, msg string }

func (e fieldError) Error() string { return e.field + " " + e.msg }

// cdrFilter reads the list filters of the query string.
func cdrFilter(r *http.Request) (cdr.Filter, error) {
	p, _ := webadmin.PrincipalFrom(r.Context())
	f := cdr.Filter{OrganisationID: p.OrganisationID}
	if f.OrganisationID == "" {
		return f, fieldError{"organisation", "must be selected"}
	}
	q := r.URL.Query()
	for _, tf := range []struct {
		name string
		into *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(tf.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, fieldError{tf.name, "must be an RFC 3339 time, e.g. 2026-05-01T00:00:00Z"}
			}
			*tf.into = t
		}
	}
	f.RoomID, f.Protocol, f.EndReason = q.Get("room_id"), q.Get("protocol"), q.Get("end_reason")
	if f.RoomID != "" && !isUUID(f.RoomID) {
		return f, fieldError{"room_id", "must be a room ID"}
	}
	for _, nf := range []struct {
		name string
		into *int
	}{{"limit", &f.Limit}, {"offset", &f.Offset}} {
		if v := q.Get(nf.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return f, fieldError{nf.name, "must be a whole number ≥ 0"}
			}
			*nf.into = n
		}
	}
	if v := q.Get("min_loss_percent"); v != "" {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || !(x >= 0 && x <= 100) { // NaN too
			return f, fieldError{"min_loss_percent", "must be a number from 0 to 100"}
		}
		f.MinLossPercent = x
	}
	return f, nil
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F'):
			return false
		}
	}
	return true
}

func (a cdrAPI) fail(w http.ResponseWriter, err error) {
	var fe fieldError
	switch {
	case errors.As(err, &fe):
		writeAPIErr(w, http.StatusBadRequest, "invalid", fe.field, fe.Error())
	case errors.Is(err, cdr.ErrNotFound):
		writeAPIErr(w, http.StatusNotFound, "not_found", "", "no such object")
	default:
		writeAPIErr(w, http.StatusInternalServerError, "internal", "", "internal error")
	}
}

// export streams a CSV export. An error before the first byte is an API
// error; one after it aborts the response, so that the client sees a broken
// transfer rather than a file that looks complete but is short.
func (a cdrAPI) export(w http.ResponseWriter, run func(io.Writer) error) {
	cw := &countingWriter{w: w}
	if err := run(cw); err != nil {
		if cw.n == 0 {
			a.fail(w, err)
			return
		}
		panic(http.ErrAbortHandler)
	}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func csvHeaders(w http.ResponseWriter, name string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.Header().Set("Cache-Control", "no-store")
}

func (a cdrAPI) listLegs(w http.ResponseWriter, r *http.Request) {
	f, err := cdrFilter(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	if r.URL.Query().Get("format") == "csv" {
		csvHeaders(w, "cdr-legs.csv")
		a.export(w, func(out io.Writer) error { return cdr.ExportLegsCSV(r.Context(), a.db, f, out) })
		return
	}
	legs, total, err := cdr.ListLegs(r.Context(), a.db, f)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeAPI(w, http.StatusOK, map[string]any{"items": legs, "total": total})
}

func (a cdrAPI) listConferences(w http.ResponseWriter, r *http.Request) {
	f, err := cdrFilter(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	if r.URL.Query().Get("format") == "csv" {
		csvHeaders(w, "cdr-conferences.csv")
		a.export(w, func(out io.Writer) error { return cdr.ExportConferencesCSV(r.Context(), a.db, f, out) })
		return
	}
	confs, total, err := cdr.ListConferences(r.Context(), a.db, f)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeAPI(w, http.StatusOK, map[string]any{"items": confs, "total": total})
}

func (a cdrAPI) getConference(w http.ResponseWriter, r *http.Request) {
	p, _ := webadmin.PrincipalFrom(r.Context())
	c, legs, err := cdr.GetConference(r.Context(), a.db, p.OrganisationID, r.PathValue("id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	writeAPI(w, http.StatusOK, map[string]any{"conference": c, "legs": legs})
}

const cdrListParams = `[
  {"name": "from", "in": "query", "schema": {"type": "string", "format": "date-time"}, "description": "Started at or after."},
  {"name": "to", "in": "query", "schema": {"type": "string", "format": "date-time"}, "description": "Started before."},
  {"name": "room_id", "in": "query", "schema": {"type": "string", "format": "uuid"}},
  {"name": "protocol", "in": "query", "schema": {"type": "string", "enum": ["sip", "webrtc", "h323"]}},
  {"name": "end_reason", "in": "query", "schema": {"type": "string"}},
  {"name": "min_loss_percent", "in": "query", "schema": {"type": "number"}, "description": "Legs with packet loss above this share."},
  {"name": "limit", "in": "query", "schema": {"type": "integer"}},
  {"name": "offset", "in": "query", "schema": {"type": "integer"}},
  {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}}
]`

var cdrOpenAPI = `{
  "/cdr/conferences": {"get": {"summary": "List call detail records of conferences.", "parameters": ` + cdrListParams + `,
    "responses": {"200": {"description": "{items, total}, or CSV with format=csv."}}}},
  "/cdr/conferences/{id}": {"get": {"summary": "One conference with its legs.",
    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
    "responses": {"200": {"description": "{conference, legs}"}, "404": {"description": "Not found."}}}},
  "/privacy/export": {"post": {"summary": "Everything stored about a person (GDPR art. 15).",
    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["subject"],
      "properties": {"subject": {"type": "string", "description": "E-mail, SIP URI, phone number or name."}}}}}},
    "responses": {"200": {"description": "The export."}, "400": {"description": "Bad request."}}}},
  "/privacy/erase": {"post": {"summary": "Delete or anonymise everything stored about a person (GDPR art. 17).",
    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["subject", "confirm"],
      "properties": {"subject": {"type": "string"}, "confirm": {"type": "boolean"}}}}}},
    "responses": {"200": {"description": "Counts of what was erased."}, "400": {"description": "Bad request."}}}},
  "/cdr/legs": {"get": {"summary": "List call detail records of legs (participants).", "parameters": ` + cdrListParams + `,
    "responses": {"200": {"description": "{items, total}, or CSV with format=csv."}}}}
}`
