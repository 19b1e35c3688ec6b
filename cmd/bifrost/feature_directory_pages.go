package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/webadmin"
)

//go:embed feature_directory.html
var directoryHTML string

var directoryTemplates = template.Must(template.New("directory").Parse(directoryHTML))

// The directory's admin pages.
var (
	dirBrowsePage = webadmin.FeaturePage{Template: directoryTemplates, Name: "dir-browse", Title: "Directory", Active: "/admin/directory/"}
	dirEntryPage  = webadmin.FeaturePage{Template: directoryTemplates, Name: "dir-entry", Title: "Entry", Active: "/admin/directory/"}
	ldapListPage  = webadmin.FeaturePage{Template: directoryTemplates, Name: "ldap-list", Title: "LDAP sources", Active: "/admin/ldap-sources"}
	ldapFormPage  = webadmin.FeaturePage{Template: directoryTemplates, Name: "ldap-form", Title: "LDAP source", Active: "/admin/ldap-sources"}
)

// pageNav is the directory's entries in the admin navigation.
func (a *directoryAPI) pageNav() []webadmin.NavItem {
	return []webadmin.NavItem{
		{Title: "Directory", Path: "/admin/directory/", Access: webadmin.AccessRead},
		{Title: "LDAP sources", Path: "/admin/ldap-sources", Access: webadmin.AccessRead},
	}
}

// pageRoutes are the directory's admin pages: plain forms, no script.
func (a *directoryAPI) pageRoutes() []webadmin.Route {
	type h = http.HandlerFunc
	return []webadmin.Route{
		{Pattern: "GET /admin/directory/{$}", Access: webadmin.AccessRead, Handler: h(a.browsePage)},
		{Pattern: "POST /admin/directory/folders", Access: webadmin.AccessWrite, Handler: h(a.createFolderForm)},
		{Pattern: "POST /admin/directory/folders/{id}", Access: webadmin.AccessWrite, Handler: h(a.updateFolderForm)},
		{Pattern: "POST /admin/directory/folders/{id}/delete", Access: webadmin.AccessWrite, Handler: h(a.deleteFolderForm)},
		{Pattern: "GET /admin/directory/entries/new", Access: webadmin.AccessWrite, Handler: h(a.entryPage)},
		{Pattern: "POST /admin/directory/entries", Access: webadmin.AccessWrite, Handler: h(a.saveEntryForm)},
		{Pattern: "GET /admin/directory/entries/{id}", Access: webadmin.AccessRead, Handler: h(a.entryPage)},
		{Pattern: "POST /admin/directory/entries/{id}", Access: webadmin.AccessWrite, Handler: h(a.saveEntryForm)},
		{Pattern: "POST /admin/directory/entries/{id}/delete", Access: webadmin.AccessWrite, Handler: h(a.deleteEntryForm)},
		{Pattern: "GET /admin/directory/export.csv", Access: webadmin.AccessRead, Handler: h(a.exportCSV)}, // feature_directory_csv.go
		{Pattern: "GET /admin/directory/import", Access: webadmin.AccessWrite, Handler: h(a.importPage)},
		{Pattern: "POST /admin/directory/import", Access: webadmin.AccessWrite, Handler: h(a.importForm)},
		{Pattern: "GET /admin/ldap-sources", Access: webadmin.AccessRead, Handler: h(a.sourcesPage)},
		{Pattern: "GET /admin/ldap-sources/new", Access: webadmin.AccessWrite, Handler: h(a.sourcePage)},
		{Pattern: "POST /admin/ldap-sources", Access: webadmin.AccessWrite, Handler: h(a.saveSourceForm)},
		{Pattern: "GET /admin/ldap-sources/{id}", Access: webadmin.AccessRead, Handler: h(a.sourcePage)},
		{Pattern: "POST /admin/ldap-sources/{id}", Access: webadmin.AccessWrite, Handler: h(a.saveSourceForm)},
		{Pattern: "POST /admin/ldap-sources/{id}/sync", Access: webadmin.AccessWrite, Handler: h(a.syncForm)},
		{Pattern: "POST /admin/ldap-sources/{id}/test", Access: webadmin.AccessWrite, Handler: h(a.testSourceForm)},
		{Pattern: "POST /admin/ldap-sources/{id}/delete", Access: webadmin.AccessWrite, Handler: h(a.deleteSourceForm)},
	}
}

// pageFail answers a page request's error: the admin's error page for a
// missing object or a server fault.
func (a *directoryAPI) pageFail(w http.ResponseWriter, r *http.Request, err error) {
	var fe fieldError
	switch {
	case errors.Is(err, directory.ErrNotFound):
		webadmin.RenderError(w, r, http.StatusNotFound, "Not found", "There is no such object in this organisation.")
	case errors.As(err, &fe):
		webadmin.RenderError(w, r, http.StatusBadRequest, "Bad request", fe.Error())
	default:
		a.log.Error("directory page", "method", r.Method, "path", r.URL.Path, "err", err)
		webadmin.RenderError(w, r, http.StatusInternalServerError, "Error", "Something went wrong; the server's log says what.")
	}
}

// userMessage is what a form shows of a store error.
func userMessage(err error) string {
	var te *directory.TemplateError
	switch {
	case errors.As(err, &te):
		return strings.TrimPrefix(te.Error(), "directory: ")
	case errors.Is(err, directory.ErrInvalid):
		return strings.TrimPrefix(err.Error(), "directory: invalid: ")
	case errors.Is(err, directory.ErrConflict):
		return "That name is already taken."
	case errors.Is(err, directory.ErrFolderNotEmpty):
		return "The folder is not empty: move or delete its entries and subfolders first."
	case errors.Is(err, directory.ErrNotFound):
		return "The folder does not exist (any more)."
	case errors.Is(err, directory.ErrSyncRunning):
		return "A sync of this source is already running."
	case errors.Is(err, directory.ErrSecretKey):
		return "The server's secret key is missing or wrong, so the password cannot be stored."
	}
	var fe fieldError
	if errors.As(err, &fe) {
		return fe.Error()
	}
	return ""
}

// ---- folders and entries

type folderView struct {
	ID, Name, Path, ParentID string
	Indent                   int
	Synced                   bool
}

// folderViews lists the folders in tree order (each after its parent, by path).
func (a *directoryAPI) folderViews(ctx context.Context, orgID string) ([]folderView, map[string]string, error) {
	fs, err := a.store.Folders(ctx, orgID)
	if err != nil {
		return nil, nil, err
	}
	paths := directory.FolderPaths(fs)
	out := make([]folderView, 0, len(fs))
	for _, f := range fs {
		p := paths[f.ID]
		v := folderView{ID: f.ID, Name: f.Name, Path: p, Indent: strings.Count(p, "/"), Synced: f.SourceID != nil}
		if f.ParentID != nil {
			v.ParentID = *f.ParentID
		}
		out = append(out, v)
	}
	// Sort by path, so the list reads as a tree.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Path < out[j-1].Path; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, paths, nil
}

type entryRow struct {
	ID, Name, Kind, Title, Department, Folder string
	Addresses                                 []string
	Synced                                    bool
}

type dirPager struct {
	Prev, Next      string
	From, To, Total int
}

const browsePageSize = 50

func (a *directoryAPI) browsePage(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	folders, paths, err := a.folderViews(r.Context(), orgID)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	q := r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = max(offset, 0)
	dq := directory.Query{Text: q.Get("q"), Limit: browsePageSize, Offset: offset}
	folder := q.Get("folder")
	switch {
	case folder == "root":
		dq.InRoot = true
	case folder != "" && isUUID(folder):
		dq.FolderID = &folder
	default:
		folder = ""
	}
	page, err := a.store.Search(r.Context(), orgID, dq)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	rows := make([]entryRow, 0, len(page.Entries))
	for _, e := range page.Entries {
		row := entryRow{ID: e.ID, Name: e.DisplayName, Kind: string(e.Kind), Title: e.Title, Department: e.Department, Synced: e.SourceID != nil}
		if e.FolderID != nil {
			row.Folder = paths[*e.FolderID]
		}
		for _, ad := range e.Addresses {
			row.Addresses = append(row.Addresses, addressLine(ad))
		}
		rows = append(rows, row)
	}
	pg := dirPager{Total: page.Total, From: offset + 1, To: offset + len(rows)}
	link := func(off int) string {
		v := url.Values{"offset": {strconv.Itoa(off)}}
		if dq.Text != "" {
			v.Set("q", dq.Text)
		}
		if folder != "" {
			v.Set("folder", folder)
		}
		return "/admin/directory/?" + v.Encode()
	}
	if offset > 0 {
		pg.Prev = link(max(offset-browsePageSize, 0))
	}
	if offset+len(rows) < page.Total || page.More {
		pg.Next = link(offset + browsePageSize)
	}
	webadmin.RenderPage(w, r, http.StatusOK, dirBrowsePage, map[string]any{
		"Folders": folders, "Folder": folder, "FolderSet": folder != "", "Query": dq.Text, "Entries": rows, "Pager": pg,
	})
}

func (a *directoryAPI) createFolderForm(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	f := directory.Folder{Name: r.PostFormValue("name")}
	if p := r.PostFormValue("parent_id"); p != "" {
		f.ParentID = &p
	}
	if _, err := a.store.CreateFolder(r.Context(), orgID, f); err != nil {
		if msg := userMessage(err); msg != "" {
			webadmin.RedirectFlash(w, r, "/admin/directory/", "Folder not added: "+msg)
			return
		}
		a.pageFail(w, r, err)
		return
	}
	webadmin.RedirectFlash(w, r, "/admin/directory/", "Added folder "+strings.TrimSpace(f.Name)+".")
}

// updateFolderForm renames a folder or moves it below another one.
func (a *directoryAPI) updateFolderForm(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	name := r.PostFormValue("name")
	var parent *string
	if p := r.PostFormValue("parent_id"); p != "" {
		parent = &p
	}
	_, err = a.store.UpdateFolder(r.Context(), orgID, r.PathValue("id"), directory.FolderPatch{Name: &name, ParentID: &parent})
	switch {
	case errors.Is(err, directory.ErrNotFound) && parent == nil:
		a.pageFail(w, r, err)
	case err != nil:
		if msg := userMessage(err); msg != "" {
			webadmin.RedirectFlash(w, r, "/admin/directory/", "Folder not changed: "+msg)
			return
		}
		a.pageFail(w, r, err)
	default:
		webadmin.RedirectFlash(w, r, "/admin/directory/", "Saved folder "+strings.TrimSpace(name)+".")
	}
}

func (a *directoryAPI) deleteFolderForm(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err == nil {
		err = a.store.DeleteFolder(r.Context(), orgID, r.PathValue("id"))
	}
	switch {
	case errors.Is(err, directory.ErrFolderNotEmpty):
		webadmin.RedirectFlash(w, r, "/admin/directory/", userMessage(err))
	case err != nil:
		a.pageFail(w, r, err)
	default:
		webadmin.RedirectFlash(w, r, "/admin/directory/", "Deleted the folder.")
	}
}

// addressLine is an address as the entry form writes it: "KIND[ LABEL]: VALUE".
func addressLine(ad directory.Address) string {
	if ad.Label != "" {
		return string(ad.Kind) + " " + ad.Label + ": " + ad.Value
	}
	return string(ad.Kind) + ": " + ad.Value
}

// parseAddresses reads the entry form's addresses, one a line.
func parseAddresses(text string) ([]directory.Address, error) {
	out := []directory.Address{}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		head, value, ok := strings.Cut(line, ":")
		kind, label, _ := strings.Cut(strings.TrimSpace(head), " ")
		if !ok || strings.TrimSpace(value) == "" || !directory.AddressKind(kind).Valid() {
			return nil, fieldError{"addresses", fmt.Sprintf("line %d: want KIND[ LABEL]: VALUE with KIND sip, h323, e164 or tel", n+1)}
		}
		out = append(out, directory.Address{Kind: directory.AddressKind(kind), Label: strings.TrimSpace(label), Value: strings.TrimSpace(value)})
	}
	return out, nil
}

// entryForm is the entry page's data.
type entryForm struct {
	ID, Action, Name, Kind, JobTitle, Department, OrganisationName, FolderID, Addresses, Error, Overridden string
	Synced                                                                                                 bool
	Kinds                                                                                                  []string
	Folders                                                                                                []folderView
}

func (a *directoryAPI) renderEntry(w http.ResponseWriter, r *http.Request, status int, f entryForm) {
	orgID, _ := principalOrg(r)
	folders, _, err := a.folderViews(r.Context(), orgID)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	f.Folders, f.Kinds = folders, []string{"person", "room", "endpoint"}
	p := dirEntryPage
	if f.ID == "" {
		f.Action, p.Title = "/admin/directory/entries", "New entry"
	} else {
		f.Action, p.Title = "/admin/directory/entries/"+f.ID, f.Name
	}
	webadmin.RenderPage(w, r, status, p, f)
}

func (a *directoryAPI) entryPage(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	id := r.PathValue("id")
	if id == "" {
		a.renderEntry(w, r, http.StatusOK, entryForm{Kind: "person"})
		return
	}
	e, err := a.store.GetEntry(r.Context(), orgID, id)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	f := entryForm{ID: e.ID, Name: e.DisplayName, Kind: string(e.Kind), JobTitle: e.Title, Department: e.Department,
		OrganisationName: e.OrganisationName, Synced: e.SourceID != nil, Overridden: strings.Join(e.Overridden, ", ")}
	if e.FolderID != nil {
		f.FolderID = *e.FolderID
	}
	lines := make([]string, 0, len(e.Addresses))
	for _, ad := range e.Addresses {
		lines = append(lines, addressLine(ad))
	}
	f.Addresses = strings.Join(lines, "\n")
	a.renderEntry(w, r, http.StatusOK, f)
}

// saveEntryForm creates an entry (no {id}) or saves the fields the admin
// changed (only those, so a synced entry gets overrides only where edited).
func (a *directoryAPI) saveEntryForm(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	id := r.PathValue("id")
	f := entryForm{ID: id, Name: r.PostFormValue("display_name"), Kind: r.PostFormValue("kind"), JobTitle: r.PostFormValue("title"),
		Department: r.PostFormValue("department"), OrganisationName: r.PostFormValue("organisation_name"),
		FolderID: r.PostFormValue("folder_id"), Addresses: r.PostFormValue("addresses")}
	var cur directory.Entry
	if id != "" {
		if cur, err = a.store.GetEntry(r.Context(), orgID, id); err != nil {
			a.pageFail(w, r, err) // another organisation's entry is a 404 too
			return
		}
	}
	var folder *string
	if f.FolderID != "" {
		folder = &f.FolderID
	}
	addrs, err := parseAddresses(f.Addresses)
	if err == nil {
		if id == "" {
			var e directory.Entry
			e, err = a.store.CreateEntry(r.Context(), orgID, directory.Entry{FolderID: folder, Kind: directory.Kind(f.Kind), DisplayName: f.Name,
				Title: f.JobTitle, Department: f.Department, OrganisationName: f.OrganisationName, Addresses: addrs})
			id = e.ID
		} else {
			err = a.patchChanged(r.Context(), orgID, cur, f, folder, addrs)
		}
	}
	if err != nil {
		if msg := userMessage(err); msg != "" {
			f.Error = msg
			a.renderEntry(w, r, http.StatusBadRequest, f)
			return
		}
		a.pageFail(w, r, err)
		return
	}
	webadmin.RedirectFlash(w, r, "/admin/directory/entries/"+id, "Saved "+strings.TrimSpace(f.Name)+".")
}

// patchChanged updates the fields of entry cur that differ from the form.
func (a *directoryAPI) patchChanged(ctx context.Context, orgID string, cur directory.Entry, f entryForm, folder *string, addrs []directory.Address) error {
	var p directory.EntryPatch
	changed := false
	str := func(from string, cur string, into **string) {
		if strings.TrimSpace(from) != cur {
			*into, changed = &from, true
		}
	}
	str(f.Name, cur.DisplayName, &p.DisplayName)
	str(f.JobTitle, cur.Title, &p.Title)
	str(f.Department, cur.Department, &p.Department)
	str(f.OrganisationName, cur.OrganisationName, &p.OrganisationName)
	if k := directory.Kind(f.Kind); k != cur.Kind {
		p.Kind, changed = &k, true
	}
	if (folder == nil) != (cur.FolderID == nil) || folder != nil && *folder != *cur.FolderID {
		p.FolderID, changed = &folder, true
	}
	curLines := make([]string, 0, len(cur.Addresses))
	for _, ad := range cur.Addresses {
		curLines = append(curLines, addressLine(ad))
	}
	newLines := make([]string, 0, len(addrs))
	for _, ad := range addrs {
		newLines = append(newLines, addressLine(ad))
	}
	if strings.Join(curLines, "\n") != strings.Join(newLines, "\n") {
		p.Addresses, changed = &addrs, true
	}
	if !changed {
		return nil
	}
	_, err := a.store.UpdateEntry(ctx, orgID, cur.ID, p)
	return err
}

func (a *directoryAPI) deleteEntryForm(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err == nil {
		err = a.store.DeleteEntry(r.Context(), orgID, r.PathValue("id"))
	}
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	webadmin.RedirectFlash(w, r, "/admin/directory/", "Deleted the entry.")
}

// ---- LDAP sources

type sourceRow struct {
	directory.Source
	IntervalText string
}

func intervalText(d time.Duration) string {
	if d == 0 {
		return "manual"
	}
	return d.String()
}

func (a *directoryAPI) sourcesPage(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	var ss []directory.Source
	if err == nil {
		ss, err = a.store.Sources(r.Context(), orgID)
	}
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	rows := make([]sourceRow, 0, len(ss))
	for _, s := range ss {
		rows = append(rows, sourceRow{s, intervalText(s.Interval)})
	}
	webadmin.RenderPage(w, r, http.StatusOK, ldapListPage, rows)
}

// sourceForm is the source page's data; the password is never in it.
type sourceForm struct {
	ID, Action, Name, URL, CACert, BindDN, BaseDNs, Filter, Scope, KeyAttribute, Mapping, Folders, Interval, Error string
	StartTLS, HasPassword, Enabled                                                                                 bool
	GuardMaxDeletes, GuardMaxPercent                                                                               int
	Scopes                                                                                                         []string
	Runs                                                                                                           []runRow
	// Running is the progress of a run under way; the page then refreshes
	// itself every sourceRefresh (a Refresh header and a meta element, no
	// script).
	Running *directory.Progress
	Elapsed string
	// The connection test's result (feature_directory_preview.go).
	Tested          bool
	TestError       string
	Preview         []previewRow
	PreviewWarnings []string
}

// sourceRefresh is how often (seconds) a source's page reloads itself while
// a sync of the source runs.
const sourceRefresh = "2"

type runRow struct {
	directory.Report
	Started, Took string
}

func sourceFormOf(s directory.Source) sourceForm {
	lines := []string{}
	for _, f := range directory.MappedFields {
		if v, ok := s.Mapping[f]; ok {
			lines = append(lines, f+"="+v)
		}
	}
	return sourceForm{ID: s.ID, Name: s.Name, URL: s.URL, CACert: s.CACert, BindDN: s.BindDN, BaseDNs: strings.Join(s.BaseDNs, "\n"),
		Filter: s.Filter, Scope: s.Scope, KeyAttribute: s.KeyAttribute, Mapping: strings.Join(lines, "\n"), Folders: s.Folders.String(),
		Interval: s.Interval.String(), StartTLS: s.StartTLS, HasPassword: s.HasPassword, Enabled: s.Enabled,
		GuardMaxDeletes: s.GuardMaxDeletes, GuardMaxPercent: s.GuardMaxPercent}
}

func (a *directoryAPI) renderSource(w http.ResponseWriter, r *http.Request, status int, f sourceForm) {
	f.Scopes = []string{"sub", "one", "base"}
	p := ldapFormPage
	if f.ID == "" {
		f.Action, p.Title = "/admin/ldap-sources", "New LDAP source"
	} else {
		f.Action, p.Title = "/admin/ldap-sources/"+f.ID, f.Name
		orgID, _ := principalOrg(r)
		runs, err := a.store.Runs(r.Context(), orgID, f.ID, 20)
		if err != nil {
			a.pageFail(w, r, err)
			return
		}
		for _, rep := range runs {
			f.Runs = append(f.Runs, runRow{rep, rep.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"), (time.Duration(rep.DurationMS) * time.Millisecond).String()})
		}
		prog, running, err := a.store.Progress(r.Context(), orgID, f.ID)
		if err != nil {
			a.pageFail(w, r, err)
			return
		}
		if running {
			f.Running = &prog
			f.Elapsed = (time.Duration(prog.ElapsedMS) * time.Millisecond).Round(time.Second).String()
			w.Header().Set("Refresh", sourceRefresh)
		}
	}
	webadmin.RenderPage(w, r, status, p, f)
}

func (a *directoryAPI) sourcePage(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	if r.PathValue("id") == "" {
		a.renderSource(w, r, http.StatusOK, sourceForm{Scope: "sub", Enabled: true, Interval: "15m", KeyAttribute: "entryUUID", Folders: "none"})
		return
	}
	s, err := a.store.Source(r.Context(), orgID, r.PathValue("id"))
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	a.renderSource(w, r, http.StatusOK, sourceFormOf(s))
}

// sourceInput reads the source form.
func sourceInput(r *http.Request, f *sourceForm) (directory.SourceInput, error) {
	v := r.PostFormValue
	*f = sourceForm{ID: f.ID, HasPassword: f.HasPassword, Name: v("name"), URL: strings.TrimSpace(v("url")), CACert: v("ca_cert"), BindDN: strings.TrimSpace(v("bind_dn")),
		BaseDNs: v("base_dns"), Filter: strings.TrimSpace(v("filter")), Scope: v("scope"), KeyAttribute: strings.TrimSpace(v("key_attribute")),
		Mapping: v("mapping"), Folders: v("folders"), Interval: strings.TrimSpace(v("interval")),
		StartTLS: v("start_tls") != "", Enabled: v("enabled") != ""}
	in := directory.SourceInput{BindPassword: v("bind_password")}
	s := &in.Source
	s.Name, s.URL, s.CACert, s.BindDN, s.Filter, s.Scope, s.KeyAttribute = f.Name, f.URL, f.CACert, f.BindDN, f.Filter, f.Scope, f.KeyAttribute
	s.StartTLS, s.Enabled = f.StartTLS, f.Enabled
	for _, b := range strings.Split(f.BaseDNs, "\n") {
		if b = strings.TrimSpace(b); b != "" {
			s.BaseDNs = append(s.BaseDNs, b)
		}
	}
	s.Mapping = directory.Mapping{}
	for n, line := range strings.Split(f.Mapping, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, e, ok := strings.Cut(line, "=")
		if !ok {
			return in, fieldError{"mapping", fmt.Sprintf("line %d: want field=expression", n+1)}
		}
		s.Mapping[strings.TrimSpace(k)] = strings.TrimSpace(e)
	}
	fm, err := directory.ParseFolderMapping(f.Folders)
	if err != nil {
		return in, err
	}
	s.Folders = fm
	if f.Interval != "" {
		d, err := time.ParseDuration(f.Interval)
		if err != nil || d < 0 {
			return in, fieldError{"interval", "must be a duration such as 15m or 1h, or 0s for manual runs"}
		}
		s.Interval = d
	}
	for _, n := range []struct {
		name string
		into *int
		dst  *int
	}{{"guard_max_deletes", &f.GuardMaxDeletes, &s.GuardMaxDeletes}, {"guard_max_percent", &f.GuardMaxPercent, &s.GuardMaxPercent}} {
		if t := strings.TrimSpace(v(n.name)); t != "" {
			x, err := strconv.Atoi(t)
			if err != nil {
				return in, fieldError{n.name, "must be a whole number"}
			}
			*n.into, *n.dst = x, x
		}
	}
	return in, nil
}

func (a *directoryAPI) saveSourceForm(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	f := sourceForm{ID: r.PathValue("id")}
	if f.ID != "" {
		cur, err := a.store.Source(r.Context(), orgID, f.ID)
		if err != nil {
			a.pageFail(w, r, err)
			return
		}
		f.HasPassword = cur.HasPassword
	}
	in, err := sourceInput(r, &f)
	var key []byte
	if err == nil {
		key, err = a.sealKey(in.BindPassword)
	}
	var s directory.Source
	if err == nil {
		if f.ID == "" {
			s, err = a.store.CreateSource(r.Context(), orgID, in, key)
		} else {
			s, err = a.store.UpdateSource(r.Context(), orgID, f.ID, in, key, r.PostFormValue("clear_password") != "")
		}
	}
	if err != nil {
		if msg := userMessage(err); msg != "" && !errors.Is(err, directory.ErrNotFound) {
			f.Error = msg
			a.renderSource(w, r, http.StatusBadRequest, f)
			return
		}
		a.pageFail(w, r, err)
		return
	}
	webadmin.RedirectFlash(w, r, "/admin/ldap-sources/"+s.ID, "Saved "+s.Name+".")
}

// syncFormWait is how long the sync form waits for the run it starts before
// it answers with the source page, which shows the run's progress.
const syncFormWait = 1500 * time.Millisecond

// syncRunLimit bounds a run the sync form started, which outlives its request.
const syncRunLimit = time.Hour

// syncForm starts a sync (or dry run) now. A run that ends within
// syncFormWait shows its result as the flash message; a longer one goes on in
// the background (it changes nothing should the process stop) and the source
// page shows its progress until its report is at the top of the runs.
func (a *directoryAPI) syncForm(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	var s directory.Source
	if err == nil {
		s, err = a.store.Source(r.Context(), orgID, r.PathValue("id"))
	}
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	opts := directory.SyncOptions{DryRun: r.PostFormValue("dry_run") != "", Confirm: r.PostFormValue("confirm") != ""}
	type result struct {
		rep directory.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), syncRunLimit)
		defer cancel()
		rep, err := a.runSync(ctx, orgID, s.ID, opts)
		done <- result{rep, err}
	}()
	back := "/admin/ldap-sources/" + s.ID
	var rep directory.Report
	select {
	case res := <-done:
		rep, err = res.rep, res.err
	case <-time.After(syncFormWait):
		webadmin.RedirectFlash(w, r, back, "The run goes on: this page shows its progress, and its report when it ends.")
		return
	}
	if err != nil && rep.Status == "" {
		if msg := userMessage(err); msg != "" {
			webadmin.RedirectFlash(w, r, back, msg)
			return
		}
		a.pageFail(w, r, err)
		return
	}
	what := "Sync"
	if rep.DryRun {
		what = "Dry run"
	}
	msg := fmt.Sprintf("%s %s: read %d, added %d, updated %d, moved %d, removed %d, skipped %d.", what, rep.Status, rep.Read, rep.Added, rep.Updated, rep.Moved, rep.Removed, rep.Skipped)
	if rep.Status == directory.RunGuarded {
		msg += " The deletion guard stopped it: check the directory, then sync again with the guard passed."
	}
	webadmin.RedirectFlash(w, r, back, msg)
}

func (a *directoryAPI) deleteSourceForm(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err == nil {
		err = a.store.DeleteSource(r.Context(), orgID, r.PathValue("id"))
	}
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	webadmin.RedirectFlash(w, r, "/admin/ldap-sources", "Deleted the source with its entries.")
}
