package webadmin

import (
	"net/http"
	"time"

	"github.com/bifrost-video/bifrost/internal/audit"
)

type dashboardData struct {
	Rooms, Users, Tokens, Actions int
}

func (s *Server) pageDashboard(w http.ResponseWriter, r *http.Request) {
	ctx, org := r.Context(), principal(r).OrganisationID
	var d dashboardData
	var err error
	one := Page{Limit: 1}
	if _, d.Rooms, err = s.store.ListRooms(ctx, org, "", one); err != nil {
		s.pageFail(w, r, err)
		return
	}
	if _, d.Users, err = s.store.ListUsers(ctx, org, one); err != nil {
		s.pageFail(w, r, err)
		return
	}
	if err := s.store.db.GetContext(ctx, &d.Tokens, `SELECT count(*) FROM api_tokens WHERE organisation_id = $1 AND revoked_at IS NULL`, org); err != nil {
		s.pageFail(w, r, err)
		return
	}
	if validID(org) {
		if _, d.Actions, err = audit.List(ctx, s.store.db, audit.Filter{OrganisationID: org, From: s.deps.Now().Add(-24 * time.Hour), Limit: 1}); err != nil {
			s.pageFail(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "dashboard", "Dashboard", "/admin/", d)
}
