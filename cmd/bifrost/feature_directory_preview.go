package main

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/bifrost-video/bifrost/directory"
)

// previewSize is how many mapped entries a connection test shows.
const previewSize = 10

// preview tests a source's connection: bind, search, and map a sample. A
// server that cannot be reached or refuses the bind is a message for the
// admin (ok false), not a server error.
func (a *directoryAPI) preview(ctx context.Context, orgID, id string) (entries []directory.PreviewEntry, warnings []string, msg string, err error) {
	key, _ := a.key()
	entries, warnings, err = directory.NewSyncer(a.store, key, a.log).Preview(ctx, orgID, id, previewSize)
	switch {
	case err == nil:
		return entries, warnings, "", nil
	case errors.Is(err, directory.ErrNotFound), errors.Is(err, context.Canceled):
		return nil, nil, "", err
	}
	return nil, nil, strings.TrimPrefix(err.Error(), "directory: "), nil
}

// testSource is POST /api/v1/ldap-sources/{id}/test.
func (a *directoryAPI) testSource(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	entries, warnings, msg, err := a.preview(r.Context(), orgID, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if entries == nil {
		entries = []directory.PreviewEntry{}
	}
	if warnings == nil {
		warnings = []string{}
	}
	writeAPI(w, http.StatusOK, map[string]any{"ok": msg == "", "error": msg, "entries": entries, "warnings": warnings})
}

// testSourceForm shows the source page with the connection test's sample.
func (a *directoryAPI) testSourceForm(w http.ResponseWriter, r *http.Request) {
	orgID, err := principalOrg(r)
	var s directory.Source
	if err == nil {
		s, err = a.store.Source(r.Context(), orgID, r.PathValue("id"))
	}
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	entries, warnings, msg, err := a.preview(r.Context(), orgID, s.ID)
	if err != nil {
		a.pageFail(w, r, err)
		return
	}
	f := sourceFormOf(s)
	f.Tested, f.TestError, f.Preview, f.PreviewWarnings = true, msg, make([]previewRow, 0, len(entries)), warnings
	for _, e := range entries {
		lines := make([]string, 0, len(e.Addresses))
		for _, ad := range e.Addresses {
			lines = append(lines, addressLine(ad))
		}
		f.Preview = append(f.Preview, previewRow{e, lines})
	}
	a.renderSource(w, r, http.StatusOK, f)
}

type previewRow struct {
	directory.PreviewEntry
	AddressLines []string
}
