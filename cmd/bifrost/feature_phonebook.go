package main

import (
	_ "embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/directory/phonebook"
	"github.com/bifrost-video/bifrost/webadmin"
)

// feature returns the phonebook's part of the web admin: phonebook tokens
// (create shows the secret once, revoke), the request log with filters and
// the per-endpoint view, as pages and under /api/v1/phonebook; and the
// endpoint protocols under /pb/ (public: the token in the path is the
// credential).
func (rt *phonebookRuntime) feature() webadmin.Feature {
	type h = http.HandlerFunc
	a := &phonebookAdmin{rt: rt}
	routes := []webadmin.Route{
		{Pattern: "GET /api/v1/phonebook/tokens", Access: webadmin.AccessRead, Handler: h(a.listTokens)},
		{Pattern: "POST /api/v1/phonebook/tokens", Access: webadmin.AccessWrite, Handler: h(a.createToken)},
		{Pattern: "DELETE /api/v1/phonebook/tokens/{id}", Access: webadmin.AccessWrite, Handler: h(a.revokeToken)},
		{Pattern: "GET /api/v1/phonebook/requests", Access: webadmin.AccessRead, Handler: h(a.listRequests)},
		{Pattern: "GET /api/v1/phonebook/endpoints", Access: webadmin.AccessRead, Handler: h(a.listEndpoints)},
		{Pattern: "GET /api/v1/phonebook/search", Access: webadmin.AccessRead, Handler: h(a.search)},
		{Pattern: "GET /admin/phonebook/{$}", Access: webadmin.AccessRead, Handler: h(a.tokensPage)},
		{Pattern: "POST /admin/phonebook/tokens", Access: webadmin.AccessWrite, Handler: h(a.createTokenForm)},
		{Pattern: "POST /admin/phonebook/tokens/{id}/revoke", Access: webadmin.AccessWrite, Handler: h(a.revokeTokenForm)},
		{Pattern: "GET /admin/phonebook/requests", Access: webadmin.AccessRead, Handler: h(a.requestsPage)},
		{Pattern: "GET /admin/phonebook/endpoints", Access: webadmin.AccessRead, Handler: h(a.endpointsPage)},
	}
	for _, pr := range rt.server.Routes() {
		routes = append(routes, webadmin.Route{Pattern: pr.Pattern, Access: webadmin.AccessPublic, Handler: pr.Handler})
	}
	return webadmin.Feature{
		Name:   "phonebook",
		Routes: routes,
		Nav: []webadmin.NavItem{
			{Title: "Phonebook", Path: "/admin/phonebook/", Access: webadmin.AccessRead},
			{Title: "Phonebook log", Path: "/admin/phonebook/requests", Access: webadmin.AccessRead},
			{Title: "Endpoints", Path: "/admin/phonebook/endpoints", Access: webadmin.AccessRead},
		},
		OpenAPIPaths: []byte(phonebookOpenAPI),
	}
}

type phonebookAdmin struct{ rt *phonebookRuntime }

//go:embed feature_phonebook.html
var phonebookHTML string

var phonebookTemplates = template.Must(template.New("phonebook").Parse(phonebookHTML))

// The phonebook's admin pages.
var (
	pbTokensPage    = webadmin.FeaturePage{Template: phonebookTemplates, Name: "pb-tokens", Title: "Phonebook", Active: "/admin/phonebook/"}
	pbCreatedPage   = webadmin.FeaturePage{Template: phonebookTemplates, Name: "pb-created", Title: "Phonebook token created", Active: "/admin/phonebook/"}
	pbRequestsPage  = webadmin.FeaturePage{Template: phonebookTemplates, Name: "pb-requests", Title: "Phonebook log", Active: "/admin/phonebook/requests"}
	pbEndpointsPage = webadmin.FeaturePage{Template: phonebookTemplates, Name: "pb-endpoints", Title: "Endpoints", Active: "/admin/phonebook/endpoints"}
)

// fail answers an API error.
func (a *phonebookAdmin) fail(w http.ResponseWriter, r *http.Request, err error) {
	var fe fieldError
	switch {
	case errors.As(err, &fe):
		writeAPIErr(w, http.StatusBadRequest, "invalid", fe.field, fe.Error())
	case errors.Is(err, phonebook.ErrInvalid):
		writeAPIErr(w, http.StatusBadRequest, "invalid", "name", strings.TrimPrefix(err.Error(), "phonebook: invalid: "))
	case errors.Is(err, phonebook.ErrNotFound):
		field := ""
		if r.Method == http.MethodPost {
			field = "folder_path"
		}
		writeAPIErr(w, http.StatusNotFound, "not_found", field, strings.TrimPrefix(err.Error(), "phonebook: "))
	default:
		a.rt.logger.Error("phonebook API", "method", r.Method, "path", r.URL.Path, "err", err)
		writeAPIErr(w, http.StatusInternalServerError, "internal", "", "internal error")
	}
}

func (a *phonebookAdmin) pageFail(w http.ResponseWriter, r *http.Request, err error) {
	var fe fieldError
	switch {
	case errors.Is(err, phonebook.ErrNotFound):
		webadmin.RenderError(w, r, http.StatusNotFound, "Not found", "There is no such token or folder in this organisation.")
	case errors.As(err, &fe):
		webadmin.RenderError(w, r, http.StatusBadRequest, "Bad request", fe.Error())
	default:
		a.rt.logger.Error("phonebook page", "method", r.Method, "path", r.URL.Path, "err", err)
		webadmin.RenderError(w, r, http.StatusInternalServerError, "Error", "Something went wrong; the server's log says what.")
	}
}

func createdBy(r *http.Request) string {
	p, _ := webadmin.PrincipalFrom(r.Context())
	return p.UserID
}

// ---- REST

func (a *phonebookAdmin) listTokens(w http.ResponseWriter, r *http.Request) {
	org, err := principalOrg(r)
	var ts []phonebook.Token
	if err == nil {
		ts, err = a.rt.tokens.List(r.Context(), org)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeAPI(w, http.StatusOK, map[string]any{"items": ts})
}

// createdToken is the answer to creating a token: the only time its secret
// is shown.
type createdToken struct {
	phonebook.Token
	Links phonebook.TokenLinks `json:"links"`
}

func (a *phonebookAdmin) createToken(w http.ResponseWriter, r *http.Request) {
	org, err := principalOrg(r)
	var in phonebook.TokenInput
	if err == nil {
		err = decodeBody(w, r, &in)
	}
	var out createdToken
	var secret string
	if err == nil {
		out.Token, secret, err = a.rt.tokens.Create(r.Context(), org, in, createdBy(r))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out.Links = a.rt.links.For(secret)
	writeAPI(w, http.StatusCreated, out)
}

func (a *phonebookAdmin) revokeToken(w http.ResponseWriter, r *http.Request) {
	org, err := principalOrg(r)
	if err == nil {
		err = a.rt.tokens.Revoke(r.Context(), org, r.PathValue("id"))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// requestFilter reads the log filters of the query string.
func requestFilter(q url.Values) (phonebook.RequestFilter, error) {
	f := phonebook.RequestFilter{Protocol: q.Get("protocol"), TokenID: q.Get("token"), Endpoint: q.Get("endpoint"), Failed: q.Get("failed") == "true" || q.Get("failed") == "on"}
	switch f.Protocol {
	case "", phonebook.ProtocolTMS, phonebook.ProtocolYealink, phonebook.ProtocolCiscoIPPhone, phonebook.ProtocolLDAP, phonebook.ProtocolJSON:
	default:
		return f, fieldError{"protocol", "must be tms, yealink, cisco-ipphone, ldap or json"}
	}
	for _, tf := range []struct {
		name string
		into *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v := q.Get(tf.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse("2006-01-02", v); err != nil {
				return f, fieldError{tf.name, "must be a date (2006-01-02) or an RFC 3339 time"}
			}
		}
		*tf.into = t
	}
	for _, nf := range []struct {
		name string
		set  func(int64)
	}{{"limit", func(n int64) { f.Limit = int(n) }}, {"before", func(n int64) { f.BeforeID = n }}} {
		if v := q.Get(nf.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return f, fieldError{nf.name, "must be a non-negative number"}
			}
			nf.set(n)
		}
	}
	return f, nil
}

func (a *phonebookAdmin) listRequests(w http.ResponseWriter, r *http.Request) {
	org, err := principalOrg(r)
	var f phonebook.RequestFilter
	if err == nil {
		f, err = requestFilter(r.URL.Query())
	}
	var rs []phonebook.LoggedRequest
	if err == nil {
		rs, err = phonebook.Requests(r.Context(), a.rt.db, org, f)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeAPI(w, http.StatusOK, map[string]any{"items": rs})
}

func (a *phonebookAdmin) listEndpoints(w http.ResponseWriter, r *http.Request) {
	org, err := principalOrg(r)
	var f phonebook.RequestFilter
	if err == nil {
		f, err = requestFilter(r.URL.Query())
	}
	var eps []phonebook.Endpoint
	if err == nil {
		eps, err = phonebook.Endpoints(r.Context(), a.rt.db, org, f.Since)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeAPI(w, http.StatusOK, map[string]any{"items": eps})
}

// search answers browse and search over the organisation's whole phonebook
// from the query layer the endpoints use.
func (a *phonebookAdmin) search(w http.ResponseWriter, r *http.Request) {
	org, err := principalOrg(r)
	var b *phonebook.Book
	if err == nil {
		b, err = a.rt.cache.Book(r.Context(), org)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeAPI(w, http.StatusOK, phonebook.NewJSONResult(b.View("", "").Search(phonebook.QueryFromURL(r))))
}

// ---- pages

type tokenRow struct {
	phonebook.Token
	Created, LastUsed, Revoked string
}

func when(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func (a *phonebookAdmin) tokensPage(w http.ResponseWriter, r *http.Request) {
	a.renderTokens(w, r, http.StatusOK, "", phonebook.TokenInput{})
}

func (a *phonebookAdmin) renderTokens(w http.ResponseWriter, r *http.Request, status int, formErr string, in phonebook.TokenInput) {
	org, err := principalOrg(r)
	var ts []phonebook.Token
	if err == nil {
		ts, err = a.rt.tokens.List(r.Context(), org)
	}
	var fs []directory.Folder
	if err == nil {
		fs, err = directory.NewStore(a.rt.db, time.Now).Folders(r.Context(), org)
	}
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	rows := make([]tokenRow, len(ts))
	for i, t := range ts {
		rows[i] = tokenRow{Token: t, Created: when(&t.CreatedAt), LastUsed: when(t.LastUsedAt), Revoked: when(t.RevokedAt)}
	}
	var paths []string
	for _, p := range directory.FolderPaths(fs) {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	webadmin.RenderPage(w, r, status, pbTokensPage, map[string]any{
		"Tokens": rows, "Folders": paths, "Error": formErr, "Input": in, "Links": a.rt.links.For(""),
	})
}

func (a *phonebookAdmin) createTokenForm(w http.ResponseWriter, r *http.Request) {
	org, err := principalOrg(r)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	in := phonebook.TokenInput{Name: r.PostFormValue("name"), FolderPath: r.PostFormValue("folder_path")}
	t, secret, err := a.rt.tokens.Create(r.Context(), org, in, createdBy(r))
	switch {
	case errors.Is(err, phonebook.ErrInvalid), errors.Is(err, phonebook.ErrNotFound):
		a.renderTokens(w, r, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "phonebook: "), in)
		return
	case err != nil:
		a.pageFail(w, r, err)
		return
	}
	// The secret is shown in this answer only: no redirect, no flash.
	webadmin.RenderPage(w, r, http.StatusCreated, pbCreatedPage, map[string]any{"Token": t, "Links": a.rt.links.For(secret)})
}

func (a *phonebookAdmin) revokeTokenForm(w http.ResponseWriter, r *http.Request) {
	org, err := principalOrg(r)
	if err == nil {
		err = a.rt.tokens.Revoke(r.Context(), org, r.PathValue("id"))
	}
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	webadmin.RedirectFlash(w, r, "/admin/phonebook/", "Token revoked: its URLs answer 404 from now on.")
}

type requestRow struct {
	phonebook.LoggedRequest
	When, Duration, Endpoint string
}

func (a *phonebookAdmin) requestsPage(w http.ResponseWriter, r *http.Request) {
	org, err := principalOrg(r)
	q := r.URL.Query()
	var f phonebook.RequestFilter
	if err == nil {
		f, err = requestFilter(q)
	}
	var rs []phonebook.LoggedRequest
	if err == nil {
		f.Limit = 100
		rs, err = phonebook.Requests(r.Context(), a.rt.db, org, f)
	}
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	rows := make([]requestRow, len(rs))
	for i, x := range rs {
		ep := x.SystemName
		if ep == "" {
			ep = x.UserAgent
		}
		rows[i] = requestRow{LoggedRequest: x, When: x.At.UTC().Format("2006-01-02 15:04:05"),
			Duration: (time.Duration(x.DurationMicros) * time.Microsecond).String(), Endpoint: ep}
	}
	older := ""
	if len(rs) == f.Limit {
		v := url.Values{}
		for k, x := range q {
			v[k] = x
		}
		v.Set("before", strconv.FormatInt(rs[len(rs)-1].ID, 10))
		older = "/admin/phonebook/requests?" + v.Encode()
	}
	webadmin.RenderPage(w, r, http.StatusOK, pbRequestsPage, map[string]any{
		"Rows": rows, "Older": older, "Protocol": f.Protocol, "Endpoint": f.Endpoint, "Failed": f.Failed,
		"Since": q.Get("since"), "Until": q.Get("until"),
		"Protocols": []string{phonebook.ProtocolTMS, phonebook.ProtocolYealink, phonebook.ProtocolCiscoIPPhone, phonebook.ProtocolLDAP, phonebook.ProtocolJSON},
	})
}

type endpointRow struct {
	phonebook.Endpoint
	First, Last string
}

func (a *phonebookAdmin) endpointsPage(w http.ResponseWriter, r *http.Request) {
	org, err := principalOrg(r)
	var eps []phonebook.Endpoint
	if err == nil {
		eps, err = phonebook.Endpoints(r.Context(), a.rt.db, org, time.Time{})
	}
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	rows := make([]endpointRow, len(eps))
	versions := map[string]int{}
	for i, e := range eps {
		rows[i] = endpointRow{Endpoint: e, First: when(&e.FirstSeen), Last: when(&e.LastSeen)}
		if e.SWVersion != "" {
			versions[e.ProductID+" "+e.SWVersion]++
		}
	}
	type version struct {
		Name  string
		Count int
	}
	var vs []version
	for k, n := range versions {
		vs = append(vs, version{k, n})
	}
	sort.Slice(vs, func(i, j int) bool {
		return vs[i].Count > vs[j].Count || vs[i].Count == vs[j].Count && vs[i].Name < vs[j].Name
	})
	webadmin.RenderPage(w, r, http.StatusOK, pbEndpointsPage, map[string]any{"Rows": rows, "Versions": vs})
}

var phonebookOpenAPI = `{
  "/phonebook/tokens": {
    "get": {"summary": "List the organisation's phonebook tokens (secrets are never returned)", "tags": ["phonebook"],
      "responses": {"200": {"description": "{\"items\": [token]}"}}},
    "post": {"summary": "Create a phonebook token; the answer carries the secret and the endpoint URLs, once", "tags": ["phonebook"],
      "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
        "name": {"type": "string", "description": "shown as the phonebook title; default the organisation's name"},
        "folder_path": {"type": "string", "description": "limit to this folder subtree, e.g. People/Oslo"}}}}}},
      "responses": {"201": {"description": "the token with links.token, tms_url, yealink_url, cisco_ipphone_url, ldap"}, "400": {"description": "invalid"}, "404": {"description": "no such folder"}}}
  },
  "/phonebook/tokens/{id}": {
    "delete": {"summary": "Revoke a phonebook token: its URLs answer 404 from then on", "tags": ["phonebook"],
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
      "responses": {"204": {"description": "revoked"}, "404": {"description": "no such token"}}}
  },
  "/phonebook/requests": {
    "get": {"summary": "The phonebook request log, newest first", "tags": ["phonebook"],
      "parameters": [
        {"name": "protocol", "in": "query", "schema": {"type": "string", "enum": ["tms", "yealink", "cisco-ipphone", "ldap", "json"]}},
        {"name": "token", "in": "query", "schema": {"type": "string", "format": "uuid"}},
        {"name": "endpoint", "in": "query", "description": "system name, MAC, serial, IP or User-Agent contains", "schema": {"type": "string"}},
        {"name": "failed", "in": "query", "schema": {"type": "boolean"}},
        {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
        {"name": "until", "in": "query", "schema": {"type": "string", "format": "date-time"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 1000}},
        {"name": "before", "in": "query", "description": "page back from the request before this ID", "schema": {"type": "integer"}}],
      "responses": {"200": {"description": "{\"items\": [request]}"}, "400": {"description": "invalid filter"}}}
  },
  "/phonebook/endpoints": {
    "get": {"summary": "The endpoints that used the phonebook, with their latest software version", "tags": ["phonebook"],
      "parameters": [{"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}}],
      "responses": {"200": {"description": "{\"items\": [endpoint]}"}}}
  },
  "/phonebook/search": {
    "get": {"summary": "Browse or search the phonebook as endpoints see it (folders first, then contacts, by code point order)", "tags": ["phonebook"],
      "parameters": [
        {"name": "q", "in": "query", "description": "search text (contacts whose name contains it); empty browses", "schema": {"type": "string"}},
        {"name": "folder", "in": "query", "description": "a folder id (c_…); empty the root", "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 1000}},
        {"name": "after", "in": "query", "description": "continue after this item id", "schema": {"type": "string"}},
        {"name": "before", "in": "query", "description": "the page ending before this item id", "schema": {"type": "string"}}],
      "responses": {"200": {"description": "{folder, folder_name, folder_exists, total, is_first, is_last, items}"}}}
  }
}`
