package webadmin

import (
	"context"
	"net/http"
)

func (s *Server) apiListUsers(w http.ResponseWriter, r *http.Request) {
	page, err := pageParams(r)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	users, total, err := s.store.ListUsers(r.Context(), principal(r).OrganisationID, page)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listBody[User]{Items: users, Total: total})
}

func (s *Server) apiGetUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.store.GetUser(r.Context(), principal(r).OrganisationID, r.PathValue("id"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiCreateUser(w http.ResponseWriter, r *http.Request) {
	var in UserInput
	if err := decodeJSON(r, &in); err != nil {
		s.apiFail(w, r, err)
		return
	}
	p := principal(r)
	if in.Role != nil && *in.Role == RoleSystem && !p.IsSystem() {
		s.apiFail(w, r, ErrForbidden)
		return
	}
	u, err := s.store.CreateUser(r.Context(), p.OrganisationID, in)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/users/"+u.ID)
	writeJSON(w, http.StatusCreated, u)
}

// mayChangeUser says whether p may change (or delete) user id: an admin may
// change the accounts of its organisation except system accounts, a system user
// any; and everyone may change their own name and password (self) — not their
// role or e-mail — and delete their own account.
func (s *Server) mayChangeUser(ctx context.Context, p Principal, id string, in *UserInput) error {
	target, err := s.store.GetUser(ctx, p.OrganisationID, id)
	if err != nil {
		return err
	}
	self := p.UserID != "" && p.UserID == target.ID
	switch {
	case p.IsSystem():
		return nil
	case self && (in == nil || (in.Role == nil && in.Email == nil)):
		return nil
	case !p.CanWrite(), target.Role == RoleSystem:
		return ErrForbidden
	case in != nil && in.Role != nil && *in.Role == RoleSystem:
		return ErrForbidden
	}
	return nil
}

func (s *Server) apiUpdateUser(w http.ResponseWriter, r *http.Request) {
	var in UserInput
	if err := decodeJSON(r, &in); err != nil {
		s.apiFail(w, r, err)
		return
	}
	p := principal(r)
	if err := s.mayChangeUser(r.Context(), p, r.PathValue("id"), &in); err != nil {
		s.apiFail(w, r, err)
		return
	}
	u, err := s.store.UpdateUser(r.Context(), p.OrganisationID, r.PathValue("id"), in)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiDeleteUser(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if err := s.mayChangeUser(r.Context(), p, r.PathValue("id"), nil); err != nil {
		s.apiFail(w, r, err)
		return
	}
	if err := s.store.DeleteUser(r.Context(), p.OrganisationID, r.PathValue("id")); err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
