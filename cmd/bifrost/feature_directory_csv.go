package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/webadmin"
)

// The directory's CSV form (UTF-8, RFC 4180): one entry a row, addresses as
// "KIND[ LABEL]: VALUE" lines in one quoted field, the folder as its path
// ("Oslo/Sales"). An exported file imports back: a row whose id names an
// entry of the organisation updates it, any other row adds an entry.
var directoryCSVHeader = []string{"id", "name", "kind", "title", "department", "organisation", "folder", "addresses"}

var dirImportPage = webadmin.FeaturePage{Template: directoryTemplates, Name: "dir-import", Title: "Import entries", Active: "/admin/directory/"}

// maxImportBytes bounds a pasted CSV file.
const maxImportBytes = 8 << 20

func (a *directoryAPI) exportCSV(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	fs, err := a.store.Folders(r.Context(), orgID)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	paths := directory.FolderPaths(fs)
	csvHeaders(w, "directory.csv")
	cw := csv.NewWriter(w)
	_ = cw.Write(directoryCSVHeader)
	for off := 0; ; off += 1000 {
		p, err := a.store.Search(r.Context(), orgID, directory.Query{Limit: 1000, Offset: off})
		if err != nil {
			a.log.Error("directory CSV export", "err", err) // the header is sent: the file ends short
			return
		}
		for _, e := range p.Entries {
			lines := make([]string, 0, len(e.Addresses))
			for _, ad := range e.Addresses {
				lines = append(lines, addressLine(ad))
			}
			folder := ""
			if e.FolderID != nil {
				folder = paths[*e.FolderID]
			}
			_ = cw.Write([]string{e.ID, csvSafe(e.DisplayName), string(e.Kind), csvSafe(e.Title), csvSafe(e.Department), csvSafe(e.OrganisationName), csvSafe(folder), strings.Join(lines, "\n")})
		}
		if len(p.Entries) < 1000 {
			break
		}
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from running a cell as a formula (a name that
// starts with =, +, - or @) by prefixing a quote, which import strips.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

func csvUnsafe(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@", rune(s[1])) {
		return s[1:]
	}
	return s
}

// importRow is one row of an import: what it would do, or its error.
type importRow struct {
	Line   int
	Action string // add, update
	Entry  directory.Entry
	Folder string
	Error  string
}

// parseImport reads a CSV file into rows; a row that cannot be used carries
// its error, and the others are still read. A file without the header or
// that is not CSV is an error of the whole. lookup finds the entry a row's id
// names (directory.ErrNotFound: none, the row adds one).
func parseImport(in io.Reader, lookup func(id string) (directory.Entry, error)) ([]importRow, error) {
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("the first line must be the header %s", strings.Join(directoryCSVHeader, ","))
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	if _, ok := col["name"]; !ok {
		return nil, errors.New("the header has no name column")
	}
	var rows []importRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				rows = append(rows, importRow{Line: pe.Line, Error: pe.Err.Error()})
				if len(rows) > 10000 {
					return rows, nil
				}
				continue
			}
			return nil, err
		}
		line, _ := cr.FieldPos(0) // only after a record was read: it panics after an error
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row := importRow{Line: line, Action: "add", Folder: csvUnsafe(get("folder"))}
		e := directory.Entry{DisplayName: csvUnsafe(get("name")), Kind: directory.Kind(get("kind")), Title: csvUnsafe(get("title")),
			Department: csvUnsafe(get("department")), OrganisationName: csvUnsafe(get("organisation"))}
		if e.Kind == "" {
			e.Kind = directory.KindPerson
		}
		addrs, aerr := parseAddresses(get("addresses"))
		e.Addresses = addrs
		switch {
		case e.DisplayName == "":
			row.Error = "the name is empty"
		case !e.Kind.Valid():
			row.Error = fmt.Sprintf("kind %q: want person, room or endpoint", e.Kind)
		case aerr != nil:
			row.Error = "addresses: " + aerr.Error()
		}
		if id := get("id"); id != "" && row.Error == "" {
			if cur, err := lookup(id); err == nil {
				row.Action, e.ID, e.FolderID = "update", cur.ID, cur.FolderID
			} else if !errors.Is(err, directory.ErrNotFound) {
				return nil, err
			}
		}
		row.Entry = e
		rows = append(rows, row)
		if len(rows) > 10000 {
			rows = append(rows, importRow{Line: line, Error: "more than 10 000 rows: split the file"})
			return rows, nil
		}
	}
	return rows, nil
}

// folderFor returns the folder of path, creating the missing ones; "" is the root.
func (a *directoryAPI) folderFor(ctx context.Context, orgID, path string, byPath map[string]string) (*string, error) {
	if path == "" {
		return nil, nil
	}
	var parent *string
	sofar := ""
	for _, name := range strings.Split(path, "/") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if sofar != "" {
			sofar += "/"
		}
		sofar += name
		if id, ok := byPath[sofar]; ok {
			parent = &id
			continue
		}
		f, err := a.store.CreateFolder(ctx, orgID, directory.Folder{Name: name, ParentID: parent})
		if err != nil {
			return nil, err
		}
		byPath[sofar] = f.ID
		parent = &f.ID
	}
	return parent, nil
}

func (a *directoryAPI) importPage(w http.ResponseWriter, r *http.Request) {
	webadmin.RenderPage(w, r, http.StatusOK, dirImportPage, map[string]any{})
}

// importForm previews a pasted CSV file (action=preview) or imports its good
// rows (action=import), showing each row's result or error.
func (a *directoryAPI) importForm(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	text := r.PostFormValue("csv")
	data := map[string]any{"CSV": text}
	if len(text) > maxImportBytes {
		data["Error"] = "The file is larger than 8 MiB: split it."
		webadmin.RenderPage(w, r, http.StatusBadRequest, dirImportPage, data)
		return
	}
	rows, err := parseImport(strings.NewReader(text), func(id string) (directory.Entry, error) {
		return a.store.GetEntry(r.Context(), orgID, id)
	})
	if err != nil {
		data["Error"] = err.Error()
		webadmin.RenderPage(w, r, http.StatusBadRequest, dirImportPage, data)
		return
	}
	if r.PostFormValue("action") == "import" {
		fs, err := a.store.Folders(r.Context(), orgID)
		if err != nil {
			a.pageFail(w, r, err)
			return
		}
		byPath := map[string]string{}
		for id, p := range directory.FolderPaths(fs) {
			byPath[p] = id
		}
		done := 0
		for i := range rows {
			row := &rows[i]
			if row.Error != "" {
				continue
			}
			if err := a.importRow(r.Context(), orgID, row, byPath); err != nil {
				if msg := userMessage(err); msg != "" {
					row.Error = msg
					continue
				}
				a.pageFail(w, r, err)
				return
			}
			row.Action = map[string]string{"add": "added", "update": "updated"}[row.Action]
			done++
		}
		data["Done"] = done
		data["CSV"] = ""
	}
	bad := 0
	for _, row := range rows {
		if row.Error != "" {
			bad++
		}
	}
	data["Rows"], data["Bad"] = rows, bad
	webadmin.RenderPage(w, r, http.StatusOK, dirImportPage, data)
}

func (a *directoryAPI) importRow(ctx context.Context, orgID string, row *importRow, byPath map[string]string) error {
	folder, err := a.folderFor(ctx, orgID, row.Folder, byPath)
	if err != nil {
		return err
	}
	e := row.Entry
	if row.Action == "update" {
		_, err = a.store.UpdateEntry(ctx, orgID, e.ID, directory.EntryPatch{FolderID: &folder, Kind: &e.Kind, DisplayName: &e.DisplayName,
			Title: &e.Title, Department: &e.Department, OrganisationName: &e.OrganisationName, Addresses: &e.Addresses})
		return err
	}
	e.FolderID = folder
	_, err = a.store.CreateEntry(ctx, orgID, e)
	return err
}
