package webadmin

import (
	"encoding/csv"
	"net/http"

	"github.com/bifrost-video/bifrost/internal/audit"
)

type auditData struct {
	Rows     []audit.Row
	Fields   []field
	Pager    pager
	RawQuery string
}

func auditFields(r *http.Request) []field {
	q := r.URL.Query()
	return []field{
		{Name: "from", Label: "From", Type: "date", Value: q.Get("from")},
		{Name: "to", Label: "To (inclusive)", Type: "date", Value: q.Get("to")},
		{Name: "actor", Label: "Who", Type: "text", Value: q.Get("actor")},
		{Name: "action", Label: "Action", Type: "text", Value: q.Get("action"), Hint: "e.g. room.create, or room. for all"},
	}
}

func (s *Server) pageAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	q.Del("page")
	d := auditData{Fields: auditFields(r), RawQuery: q.Encode(), Rows: []audit.Row{}}
	f, err := auditFilter(principal(r).OrganisationID, s.orgLocation(r), r.URL.Query())
	if err != nil {
		formError(d.Fields, err)
		s.render(w, r, http.StatusBadRequest, "audit", "Audit log", "/admin/audit", d)
		return
	}
	page := pageOf(r)
	f.Limit, f.Offset = page.Limit, page.Offset
	total := 0
	if validID(f.OrganisationID) {
		if d.Rows, total, err = audit.List(r.Context(), s.store.db, f); err != nil {
			s.pageFail(w, r, err)
			return
		}
	}
	d.Pager = makePager(r, page, len(d.Rows), total)
	s.render(w, r, http.StatusOK, "audit", "Audit log", "/admin/audit", d)
}

// pageAuditCSV exports the filtered audit log as CSV (at most 100 000 rows).
func (s *Server) pageAuditCSV(w http.ResponseWriter, r *http.Request) {
	f, err := auditFilter(principal(r).OrganisationID, s.orgLocation(r), r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="bifrost-audit.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"time", "actor_kind", "actor_name", "source_ip", "action", "object_type", "object_id", "summary"})
	if !validID(f.OrganisationID) {
		cw.Flush()
		return
	}
	const batch, limit = 1000, 100000
	for off := 0; off < limit; off += batch {
		f.Limit, f.Offset = batch, off
		rows, _, err := audit.List(r.Context(), s.store.db, f)
		if err != nil {
			s.deps.Logger.ErrorContext(r.Context(), "audit export failed", "err", err)
			break
		}
		for _, row := range rows {
			ip := ""
			if row.SourceIP != nil {
				ip = *row.SourceIP
			}
			_ = cw.Write([]string{row.At.UTC().Format("2006-01-02T15:04:05Z"), row.ActorKind, csvSafe(row.ActorName), ip,
				row.Action, row.ObjectType, row.ObjectID, csvSafe(string(row.Summary))})
		}
		if len(rows) < batch {
			break
		}
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from running a cell as a formula (CSV injection).
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
