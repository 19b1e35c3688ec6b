package webadmin

import (
	"net/http"
	"net/url"
	"time"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// auditFilter reads the audit log's filters from a query: from and to (a date,
// 2006-01-02, a day in loc, or an RFC 3339 time; to is exclusive, a date
// includes its day), actor (a substring of the name), action (exact, or a
// prefix ending in ".").
func auditFilter(orgID string, loc *time.Location, q url.Values) (audit.Filter, error) {
	f := audit.Filter{OrganisationID: orgID, ActorName: q.Get("actor"), Action: q.Get("action")}
	for _, b := range []struct {
		name string
		dst  *time.Time
		days int
	}{{"from", &f.From, 0}, {"to", &f.To, 1}} {
		v := q.Get(b.name)
		if v == "" {
			continue
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			*b.dst = t
		} else if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
			*b.dst = t.AddDate(0, 0, b.days)
		} else {
			return f, invalid(b.name, "must be a date (2006-01-02) or an RFC 3339 time")
		}
	}
	if f.Action != "" && !auditActionRE.MatchString(f.Action) {
		return f, invalid("action", "must look like room.create, or room. for all room actions")
	}
	return f, nil
}

func (s *Server) apiListAudit(w http.ResponseWriter, r *http.Request) {
	page, err := pageParams(r)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	f, err := auditFilter(principal(r).OrganisationID, s.orgLocation(r), r.URL.Query())
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	if !validID(f.OrganisationID) {
		writeJSON(w, http.StatusOK, listBody[audit.Row]{Items: []audit.Row{}})
		return
	}
	page = page.normal()
	f.Limit, f.Offset = page.Limit, page.Offset
	rows, total, err := audit.List(r.Context(), s.store.db, f)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listBody[audit.Row]{Items: rows, Total: total})
}

// orgLocation is the time zone of the request's organisation (UTC without one).
func (s *Server) orgLocation(r *http.Request) *time.Location {
	o, err := s.store.GetOrganisation(r.Context(), principal(r).OrganisationID)
	if err != nil {
		return time.UTC
	}
	return o.Location()
}
