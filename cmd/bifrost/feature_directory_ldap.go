package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/bifrost-video/bifrost/directory"
)

// sourceJSON is an LDAP source as the API shows and takes it: the interval as
// a Go duration ("15m", "0s": manual runs only) and the bind password
// write-only — "bind_password" sets it, "clear_password" removes it, and
// neither is ever in an answer (has_password says whether one is stored).
type sourceJSON struct {
	directory.Source
	Interval      string `json:"interval"`
	BindPassword  string `json:"bind_password,omitempty"`
	ClearPassword bool   `json:"clear_password,omitempty"`
}

func sourceOut(s directory.Source) sourceJSON {
	return sourceJSON{Source: s, Interval: s.Interval.String()}
}

// input turns what was posted into the store's input.
func (s sourceJSON) input() (directory.SourceInput, error) {
	in := directory.SourceInput{Source: s.Source, BindPassword: s.BindPassword}
	in.Interval = 0
	if s.Interval != "" {
		d, err := time.ParseDuration(s.Interval)
		if err != nil || d < 0 {
			return in, fieldError{"interval", "must be a duration such as 15m or 1h, or 0s for manual runs"}
		}
		in.Interval = d
	}
	return in, nil
}

// sealKey is the secret key when a password is to be sealed, nil otherwise
// (a source without a new password needs none).
func (a *directoryAPI) sealKey(password string) ([]byte, error) {
	if password == "" {
		return nil, nil
	}
	k, err := a.key()
	if err != nil {
		return nil, errors.Join(directory.ErrSecretKey, err)
	}
	return k, nil
}

func (a *directoryAPI) listSources(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ss, err := a.store.Sources(r.Context(), orgID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]sourceJSON, 0, len(ss))
	for _, s := range ss {
		out = append(out, sourceOut(s))
	}
	writeAPI(w, http.StatusOK, map[string]any{"items": out, "total": len(out)})
}

func (a *directoryAPI) getSource(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	var s directory.Source
	if err == nil {
		s, err = a.store.Source(r.Context(), orgID, r.PathValue("id"))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeAPI(w, http.StatusOK, sourceOut(s))
}

func (a *directoryAPI) createSource(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	var body sourceJSON
	if err == nil {
		err = decodeBody(w, r, &body)
	}
	var in directory.SourceInput
	if err == nil {
		in, err = body.input()
	}
	var key []byte
	if err == nil {
		key, err = a.sealKey(in.BindPassword)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	s, err := a.store.CreateSource(r.Context(), orgID, in, key)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeAPI(w, http.StatusCreated, sourceOut(s))
}

// updateSource changes the fields the body names; the others stay.
func (a *directoryAPI) updateSource(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	var cur directory.Source
	if err == nil {
		cur, err = a.store.Source(r.Context(), orgID, r.PathValue("id"))
	}
	body := sourceOut(cur)
	if err == nil {
		err = decodeBody(w, r, &body)
	}
	var in directory.SourceInput
	if err == nil {
		in, err = body.input()
	}
	var key []byte
	if err == nil {
		key, err = a.sealKey(in.BindPassword)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	s, err := a.store.UpdateSource(r.Context(), orgID, cur.ID, in, key, body.ClearPassword)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeAPI(w, http.StatusOK, sourceOut(s))
}

func (a *directoryAPI) deleteSource(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err == nil {
		err = a.store.DeleteSource(r.Context(), orgID, r.PathValue("id"))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// syncRequest is the body of POST /api/v1/ldap-sources/{id}/sync.
type syncRequest struct {
	DryRun  bool `json:"dry_run"`
	Confirm bool `json:"confirm"` // pass the deletion guard this once
}

// syncSource runs a sync now and answers its report, whatever its status
// (ok, failed, guarded): the report says what happened. A run of the same
// source already under way is a 409.
func (a *directoryAPI) syncSource(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	var in syncRequest
	if err == nil {
		_, err = a.store.Source(r.Context(), orgID, r.PathValue("id"))
	}
	if err == nil && r.ContentLength != 0 {
		// The body is optional: none (or an empty chunked one) is a plain run.
		if err = decodeBody(w, r, &in); err == (fieldError{"body", "is empty"}) {
			err = nil
		}
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	rep, err := a.runSync(r.Context(), orgID, r.PathValue("id"), directory.SyncOptions{DryRun: in.DryRun, Confirm: in.Confirm})
	if err != nil && rep.Status == "" {
		a.fail(w, r, err)
		return
	}
	writeAPI(w, http.StatusOK, rep)
}

// runSync runs one sync with the secret key (a source without a password
// runs without one).
func (a *directoryAPI) runSync(ctx context.Context, orgID, id string, opts directory.SyncOptions) (directory.Report, error) {
	key, _ := a.key()
	return directory.NewSyncer(a.store, key, a.log).Run(ctx, orgID, id, opts)
}

func (a *directoryAPI) listRuns(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err == nil {
		_, err = a.store.Source(r.Context(), orgID, r.PathValue("id"))
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); err == nil && v != "" {
		n, e := strconv.Atoi(v)
		if e != nil || n < 1 || n > 1000 {
			err = fieldError{"limit", "must be a whole number from 1 to 1000"}
		}
		limit = n
	}
	var runs []directory.Report
	if err == nil {
		runs, err = a.store.Runs(r.Context(), orgID, r.PathValue("id"), limit)
	}
	// A run under way is not among the reports until it ends; its progress
	// is "running" (null when none is).
	var running *directory.Progress
	if err == nil {
		var p directory.Progress
		var ok bool
		if p, ok, err = a.store.Progress(r.Context(), orgID, r.PathValue("id")); ok {
			running = &p
		}
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeAPI(w, http.StatusOK, map[string]any{"items": runs, "total": len(runs), "running": running})
}

// ldapSourceSchema is the OpenAPI schema of a source.
const ldapSourceSchema = `{"type": "object", "properties": {
  "id": {"type": "string", "format": "uuid", "readOnly": true}, "name": {"type": "string"},
  "url": {"type": "string", "example": "ldaps://ldap.example.com"}, "start_tls": {"type": "boolean"},
  "ca_cert": {"type": "string", "description": "PEM; empty: the system's roots."},
  "bind_dn": {"type": "string"}, "bind_password": {"type": "string", "writeOnly": true, "description": "Stored encrypted, never returned."},
  "clear_password": {"type": "boolean", "writeOnly": true}, "has_password": {"type": "boolean", "readOnly": true},
  "base_dns": {"type": "array", "items": {"type": "string"}}, "filter": {"type": "string", "example": "(objectClass=inetOrgPerson)"},
  "scope": {"type": "string", "enum": ["base", "one", "sub"]}, "page_size": {"type": "integer"},
  "key_attribute": {"type": "string", "enum": ["entryUUID", "objectGUID", "nsUniqueId", "ipaUniqueID"]},
  "interval": {"type": "string", "example": "15m", "description": "0s: manual runs only."},
  "mapping": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Field → template, e.g. \"name\": \"{cn}\"."},
  "folders": {"type": "object", "properties": {"mode": {"type": "string", "enum": ["none", "ou", "attr"]}, "root": {"type": "string"}, "attr": {"type": "string"}}},
  "guard_max_deletes": {"type": "integer"}, "guard_max_percent": {"type": "integer"}, "enabled": {"type": "boolean"}}}`

var directoryOpenAPI = func() string {
	idParam := `[{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}]`
	jsonBody := func(schema string) string {
		return `{"required": true, "content": {"application/json": {"schema": ` + schema + `}}}`
	}
	folder := `{"type": "object", "properties": {"name": {"type": "string"}, "parent_id": {"type": ["string", "null"], "format": "uuid"}, "sort_order": {"type": "integer"}}}`
	entry := `{"type": "object", "properties": {"folder_id": {"type": ["string", "null"], "format": "uuid"},
    "kind": {"type": "string", "enum": ["person", "room", "endpoint"]}, "display_name": {"type": "string"},
    "title": {"type": "string"}, "department": {"type": "string"}, "organisation_name": {"type": "string"},
    "addresses": {"type": "array", "items": {"type": "object", "properties": {"kind": {"type": "string", "enum": ["sip", "h323", "e164", "tel"]},
      "value": {"type": "string"}, "label": {"type": "string"}}}}}}`
	errs := `"400": {"description": "Invalid; error.field names the field."}, "403": {"description": "A viewer."}`
	paths := map[string]any{
		"/directory/folders": map[string]any{
			"get":  json.RawMessage(`{"summary": "The folder tree, flat, each folder with its path.", "responses": {"200": {"description": "{items, total}"}}}`),
			"post": json.RawMessage(`{"summary": "Create a folder.", "requestBody": ` + jsonBody(folder) + `, "responses": {"201": {"description": "The folder."}, "409": {"description": "A sibling has that name."}, ` + errs + `}}`),
		},
		"/directory/folders/{id}": map[string]any{
			"patch":  json.RawMessage(`{"summary": "Rename, move or reorder a folder.", "parameters": ` + idParam + `, "requestBody": ` + jsonBody(folder) + `, "responses": {"200": {"description": "The folder."}, "404": {"description": "Not found."}, "409": {"description": "A sibling has that name."}, ` + errs + `}}`),
			"delete": json.RawMessage(`{"summary": "Delete an empty folder.", "parameters": ` + idParam + `, "responses": {"204": {"description": "Deleted."}, "404": {"description": "Not found."}, "409": {"description": "Not empty."}}}`),
		},
		"/directory/entries": map[string]any{
			"get": json.RawMessage(`{"summary": "Search entries.", "parameters": [
      {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "Matches names and addresses, ignoring case and accents."},
      {"name": "folder", "in": "query", "schema": {"type": "string"}, "description": "A folder ID, or root."},
      {"name": "published", "in": "query", "schema": {"type": "boolean"}, "description": "Only entries with a callable address."},
      {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
      {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
    "responses": {"200": {"description": "{items, total, more}: total is counted up to 1000, more says there are more."}, "400": {"description": "Invalid."}}}`),
			"post": json.RawMessage(`{"summary": "Create an entry.", "requestBody": ` + jsonBody(entry) + `, "responses": {"201": {"description": "The entry."}, ` + errs + `}}`),
		},
		"/directory/entries/{id}": map[string]any{
			"get":    json.RawMessage(`{"summary": "One entry with its addresses.", "parameters": ` + idParam + `, "responses": {"200": {"description": "The entry."}, "404": {"description": "Not found."}}}`),
			"patch":  json.RawMessage(`{"summary": "Change an entry; on a synced entry the changed fields become overrides that syncs leave alone.", "parameters": ` + idParam + `, "requestBody": ` + jsonBody(entry) + `, "responses": {"200": {"description": "The entry."}, "404": {"description": "Not found."}, ` + errs + `}}`),
			"delete": json.RawMessage(`{"summary": "Delete an entry.", "parameters": ` + idParam + `, "responses": {"204": {"description": "Deleted."}, "404": {"description": "Not found."}}}`),
		},
		"/ldap-sources": map[string]any{
			"get":  json.RawMessage(`{"summary": "LDAP and Active Directory sources.", "responses": {"200": {"description": "{items, total}"}}}`),
			"post": json.RawMessage(`{"summary": "Add a source.", "requestBody": ` + jsonBody(ldapSourceSchema) + `, "responses": {"201": {"description": "The source, without its password."}, "409": {"description": "Name taken."}, ` + errs + `}}`),
		},
		"/ldap-sources/{id}": map[string]any{
			"get":    json.RawMessage(`{"summary": "One source.", "parameters": ` + idParam + `, "responses": {"200": {"description": "The source, without its password."}, "404": {"description": "Not found."}}}`),
			"patch":  json.RawMessage(`{"summary": "Change the fields given.", "parameters": ` + idParam + `, "requestBody": ` + jsonBody(ldapSourceSchema) + `, "responses": {"200": {"description": "The source."}, "404": {"description": "Not found."}, ` + errs + `}}`),
			"delete": json.RawMessage(`{"summary": "Delete a source with the entries and folders it synced.", "parameters": ` + idParam + `, "responses": {"204": {"description": "Deleted."}, "404": {"description": "Not found."}}}`),
		},
		"/ldap-sources/{id}/sync": map[string]any{
			"post": json.RawMessage(`{"summary": "Run a sync now.", "parameters": ` + idParam + `,
    "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"dry_run": {"type": "boolean", "description": "Report what would change; change nothing."}, "confirm": {"type": "boolean", "description": "Pass the deletion guard this once."}}}}}},
    "responses": {"200": {"description": "The run report; status ok, failed or guarded."}, "404": {"description": "Not found."}, "409": {"description": "A sync of this source is running."}}}`),
		},
		"/ldap-sources/{id}/test": map[string]any{
			"post": json.RawMessage(`{"summary": "Test the connection: bind, search and map a sample of 10 entries; changes nothing.", "parameters": ` + idParam + `,
    "responses": {"200": {"description": "{ok, error, entries, warnings}: ok false with the error when the server cannot be reached or refuses the bind."}, "404": {"description": "Not found."}}}`),
		},
		"/ldap-sources/{id}/runs": map[string]any{
			"get": json.RawMessage(`{"summary": "The source's latest runs, newest first.", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}},
      {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
    "responses": {"200": {"description": "{items, total, running}: run reports, newest first, and the progress of a run under way ({source_id, dry_run, phase: reading or applying, read, to_apply, applied, started_at, elapsed_ms}) or null."}, "404": {"description": "Not found."}}}`),
		},
	}
	b, err := json.Marshal(paths)
	if err != nil {
		panic(err)
	}
	return string(b)
}()
