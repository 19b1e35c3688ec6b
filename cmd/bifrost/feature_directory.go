package main

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/webadmin"
)

// directoryFeature is the directory's part of the REST API and the admin
// pages, mounted in the web admin with its authentication, role checks and
// CSRF protection: folders, entries (search with paging) and LDAP sources
// with their sync runs, always of the principal's organisation. The store
// audits every change with the actor the web admin puts in the context.
//
// key returns the secret key that seals LDAP bind passwords; it is asked for
// only when a password is saved or a sync runs.
func directoryFeature(db *sqlx.DB, key func() ([]byte, error), log *slog.Logger) webadmin.Feature {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &directoryAPI{store: directory.NewStore(db, time.Now), key: key, log: log}
	type h = http.HandlerFunc
	return webadmin.Feature{
		Name: "directory",
		Routes: append([]webadmin.Route{
			{Pattern: "GET /api/v1/directory/folders", Access: webadmin.AccessRead, Handler: h(a.listFolders)},
			{Pattern: "POST /api/v1/directory/folders", Access: webadmin.AccessWrite, Handler: h(a.createFolder)},
			{Pattern: "PATCH /api/v1/directory/folders/{id}", Access: webadmin.AccessWrite, Handler: h(a.updateFolder)},
			{Pattern: "DELETE /api/v1/directory/folders/{id}", Access: webadmin.AccessWrite, Handler: h(a.deleteFolder)},
			{Pattern: "GET /api/v1/directory/entries", Access: webadmin.AccessRead, Handler: h(a.searchEntries)},
			{Pattern: "POST /api/v1/directory/entries", Access: webadmin.AccessWrite, Handler: h(a.createEntry)},
			{Pattern: "GET /api/v1/directory/entries/{id}", Access: webadmin.AccessRead, Handler: h(a.getEntry)},
			{Pattern: "PATCH /api/v1/directory/entries/{id}", Access: webadmin.AccessWrite, Handler: h(a.updateEntry)},
			{Pattern: "DELETE /api/v1/directory/entries/{id}", Access: webadmin.AccessWrite, Handler: h(a.deleteEntry)},
			{Pattern: "GET /api/v1/ldap-sources", Access: webadmin.AccessRead, Handler: h(a.listSources)},
			{Pattern: "POST /api/v1/ldap-sources", Access: webadmin.AccessWrite, Handler: h(a.createSource)},
			{Pattern: "GET /api/v1/ldap-sources/{id}", Access: webadmin.AccessRead, Handler: h(a.getSource)},
			{Pattern: "PATCH /api/v1/ldap-sources/{id}", Access: webadmin.AccessWrite, Handler: h(a.updateSource)},
			{Pattern: "DELETE /api/v1/ldap-sources/{id}", Access: webadmin.AccessWrite, Handler: h(a.deleteSource)},
			{Pattern: "POST /api/v1/ldap-sources/{id}/sync", Access: webadmin.AccessWrite, Handler: h(a.syncSource)},
			{Pattern: "POST /api/v1/ldap-sources/{id}/test", Access: webadmin.AccessWrite, Handler: h(a.testSource)},
			{Pattern: "GET /api/v1/ldap-sources/{id}/runs", Access: webadmin.AccessRead, Handler: h(a.listRuns)},
		}, a.pageRoutes()...),
		Nav:          a.pageNav(),
		OpenAPIPaths: []byte(directoryOpenAPI),
	}
}

type directoryAPI struct {
	store *directory.Store
	key   func() ([]byte, error)
	log   *slog.Logger
}

// principalOrg is the principal's organisation; a system user without one selected
// gets a 400 naming the field.
func principalOrg(r *http.Request) (string, error) {
	p, _ := webadmin.PrincipalFrom(r.Context())
	if p.OrganisationID == "" {
		return "", fieldError{"organisation", "must be selected"}
	}
	return p.OrganisationID, nil
}

// fail answers err with the status the web admin's conventions give its kind.
func (a *directoryAPI) fail(w http.ResponseWriter, r *http.Request, err error) {
	var fe fieldError
	var te *directory.TemplateError
	switch {
	case errors.As(err, &fe):
		writeAPIErr(w, http.StatusBadRequest, "invalid", fe.field, fe.Error())
	case errors.As(err, &te):
		writeAPIErr(w, http.StatusBadRequest, "invalid", "mapping", strings.TrimPrefix(te.Error(), "directory: "))
	case errors.Is(err, directory.ErrInvalid):
		writeAPIErr(w, http.StatusBadRequest, "invalid", invalidField(err), strings.TrimPrefix(err.Error(), "directory: invalid: "))
	case errors.Is(err, directory.ErrNotFound):
		writeAPIErr(w, http.StatusNotFound, "not_found", "", "no such object")
	case errors.Is(err, directory.ErrConflict):
		writeAPIErr(w, http.StatusConflict, "conflict", "name", "the name is already taken")
	case errors.Is(err, directory.ErrFolderNotEmpty):
		writeAPIErr(w, http.StatusConflict, "conflict", "", "the folder is not empty: move or delete its entries and subfolders first")
	case errors.Is(err, directory.ErrSyncRunning):
		writeAPIErr(w, http.StatusConflict, "conflict", "", "a sync of this source is already running")
	case errors.Is(err, directory.ErrSecretKey):
		a.log.Error("directory: secret key", "err", err)
		writeAPIErr(w, http.StatusServiceUnavailable, "no_secret_key", "", "the server's secret key is missing or wrong; see `bifrost doctor`")
	default:
		a.log.Error("directory API", "method", r.Method, "path", r.URL.Path, "err", err)
		writeAPIErr(w, http.StatusInternalServerError, "internal", "", "internal error")
	}
}

// invalidField names the field of the store's validation errors, which say it
// in words ("a folder needs a name", "bad filter: …").
func invalidField(err error) string {
	m := strings.ToLower(err.Error())
	for _, f := range []struct{ word, field string }{
		{"needs a name", "name"}, {"folder name", "name"}, {"bind password", "bind_password"}, {"filter", "filter"}, {"url", "url"}, {"base dn", "base_dns"}, {"bind dn", "bind_dn"}, {"scope", "scope"},
		{"address", "addresses"}, {"kind", "kind"}, {"folder mapping", "folders"}, {"folder", "folder_id"},
		{"parent", "parent_id"}, {"interval", "interval"}, {"page size", "page_size"}, {"key attribute", "key_attribute"},
		{"ca cert", "ca_cert"}, {"guard", "guard_max_deletes"}, {"name", "name"},
	} {
		if strings.Contains(m, f.word) {
			return f.field
		}
	}
	return ""
}

// decodeBody reads a JSON object strictly into v, naming the field at fault.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return fieldError{"body", "must be application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return fieldError{te.Field, "has the wrong type (want " + te.Type.String() + ")"}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
			if f == "" || len(f) > 100 {
				f = "body"
			}
			return fieldError{f, "is not a known field"}
		case errors.Is(err, io.EOF):
			return fieldError{"body", "is empty"}
		default:
			return fieldError{"body", "is not a valid JSON object"}
		}
	}
	if dec.More() {
		return fieldError{"body", "has data after the JSON object"}
	}
	return nil
}

// optionalID is a JSON field that may be absent (Set false), null (Set, nil:
// the root) or an ID.
type optionalID struct {
	Set bool
	ID  *string
}

func (o *optionalID) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.ID = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	o.ID = &s
	return nil
}

func (o optionalID) patch() **string {
	if !o.Set {
		return nil
	}
	return &o.ID
}

// pageQuery reads limit (1–1000, default 100) and offset.
func pageQuery(r *http.Request) (limit, offset int, err error) {
	q := r.URL.Query()
	limit = 100
	for _, f := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"limit", &limit, 1, 1000}, {"offset", &offset, 0, 1 << 30}} {
		if v := q.Get(f.name); v != "" {
			n, e := strconv.Atoi(v)
			if e != nil || n < f.min || n > f.max {
				return 0, 0, fieldError{f.name, "must be a whole number from " + strconv.Itoa(f.min) + " to " + strconv.Itoa(f.max)}
			}
			*f.dst = n
		}
	}
	return limit, offset, nil
}

// ---- folders

type folderBody struct {
	Name      *string    `json:"name"`
	ParentID  optionalID `json:"parent_id"`
	SortOrder *int       `json:"sort_order"`
}

// folderOut is a folder with its path ("Oslo/Sales"), as the API shows it.
type folderOut struct {
	directory.Folder
	Path string `json:"path"`
}

func (a *directoryAPI) listFolders(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	fs, err := a.store.Folders(r.Context(), orgID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	paths := directory.FolderPaths(fs)
	out := make([]folderOut, 0, len(fs))
	for _, f := range fs {
		out = append(out, folderOut{f, paths[f.ID]})
	}
	writeAPI(w, http.StatusOK, map[string]any{"items": out, "total": len(out)})
}

func (a *directoryAPI) createFolder(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	var in folderBody
	if err == nil {
		err = decodeBody(w, r, &in)
	}
	if err == nil && in.Name == nil {
		err = fieldError{"name", "is required"}
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f := directory.Folder{Name: *in.Name, ParentID: in.ParentID.ID}
	if in.SortOrder != nil {
		f.SortOrder = *in.SortOrder
	}
	f, err = a.store.CreateFolder(r.Context(), orgID, f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeAPI(w, http.StatusCreated, f)
}

func (a *directoryAPI) updateFolder(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	var in folderBody
	if err == nil {
		err = decodeBody(w, r, &in)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	f, err := a.store.UpdateFolder(r.Context(), orgID, r.PathValue("id"),
		directory.FolderPatch{Name: in.Name, ParentID: in.ParentID.patch(), SortOrder: in.SortOrder})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeAPI(w, http.StatusOK, f)
}

func (a *directoryAPI) deleteFolder(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err == nil {
		err = a.store.DeleteFolder(r.Context(), orgID, r.PathValue("id"))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ---- entries

type entryBody struct {
	FolderID         optionalID           `json:"folder_id"`
	Kind             *directory.Kind      `json:"kind"`
	DisplayName      *string              `json:"display_name"`
	Title            *string              `json:"title"`
	Department       *string              `json:"department"`
	OrganisationName *string              `json:"organisation_name"`
	Addresses        *[]directory.Address `json:"addresses"`
}

func (a *directoryAPI) searchEntries(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	limit, offset, err := pageQuery(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	dq := directory.Query{Text: q.Get("q"), Limit: limit, Offset: offset}
	switch f := q.Get("folder"); {
	case f == "root":
		dq.InRoot = true
	case f != "" && !isUUID(f):
		a.fail(w, r, fieldError{"folder", "must be a folder ID or \"root\""})
		return
	case f != "":
		dq.FolderID = &f
	}
	if q.Get("published") == "true" {
		dq.PublishedOnly = true
	}
	page, err := a.store.Search(r.Context(), orgID, dq)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeAPI(w, http.StatusOK, map[string]any{"items": page.Entries, "total": page.Total, "more": page.More})
}

func (a *directoryAPI) createEntry(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	var in entryBody
	if err == nil {
		err = decodeBody(w, r, &in)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	e := directory.Entry{FolderID: in.FolderID.ID, Kind: directory.KindPerson}
	if in.Kind != nil {
		e.Kind = *in.Kind
	}
	for _, f := range []struct {
		from *string
		to   *string
	}{{in.DisplayName, &e.DisplayName}, {in.Title, &e.Title}, {in.Department, &e.Department}, {in.OrganisationName, &e.OrganisationName}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	if in.Addresses != nil {
		e.Addresses = *in.Addresses
	}
	e, err = a.store.CreateEntry(r.Context(), orgID, e)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeAPI(w, http.StatusCreated, e)
}

func (a *directoryAPI) getEntry(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	var e directory.Entry
	if err == nil {
		e, err = a.store.GetEntry(r.Context(), orgID, r.PathValue("id"))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeAPI(w, http.StatusOK, e)
}

func (a *directoryAPI) updateEntry(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	var in entryBody
	if err == nil {
		err = decodeBody(w, r, &in)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	e, err := a.store.UpdateEntry(r.Context(), orgID, r.PathValue("id"), directory.EntryPatch{
		FolderID: in.FolderID.patch(), Kind: in.Kind, DisplayName: in.DisplayName, Title: in.Title,
		Department: in.Department, OrganisationName: in.OrganisationName, Addresses: in.Addresses,
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeAPI(w, http.StatusOK, e)
}

func (a *directoryAPI) deleteEntry(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err == nil {
		err = a.store.DeleteEntry(r.Context(), orgID, r.PathValue("id"))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
