package webadmin

import (
	"net/http"
	"strings"
)

type usersData struct {
	Users     []User
	Pager     pager
	Fields    []field
	Role      string
	RoleError string
}

func userFields(r *http.Request) []field {
	return []field{
		{Name: "email", Label: "E-mail", Type: "email", Value: r.PostFormValue("email"), Required: true, Autocomplete: "off"},
		{Name: "name", Label: "Name", Type: "text", Value: r.PostFormValue("name")},
		{Name: "password", Label: "Password", Type: "password", Required: true, Autocomplete: "new-password",
			Hint: "At least 12 characters."},
	}
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, d usersData) {
	page := pageOf(r)
	users, total, err := s.store.ListUsers(r.Context(), principal(r).OrganisationID, page)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	d.Users, d.Pager = users, makePager(r, page, len(users), total)
	if d.Fields == nil {
		d.Fields = userFields(r)
	}
	if d.Role == "" {
		d.Role = string(RoleViewer)
	}
	s.render(w, r, status, "users", "Admin accounts", "/admin/users", d)
}

func (s *Server) pageUsers(w http.ResponseWriter, r *http.Request) {
	s.renderUsers(w, r, http.StatusOK, usersData{})
}

func (s *Server) pageCreateUser(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	role := Role(r.PostFormValue("role"))
	if role == RoleSystem && !p.IsSystem() {
		s.pageFail(w, r, ErrForbidden)
		return
	}
	in := UserInput{Email: ptrTo(r.PostFormValue("email")), Name: ptrTo(r.PostFormValue("name")),
		Password: ptrTo(r.PostFormValue("password")), Role: &role}
	u, err := s.store.CreateUser(r.Context(), p.OrganisationID, in)
	if err != nil {
		fields := userFields(r)
		if formError(fields, err) {
			d := usersData{Fields: fields, Role: string(role)}
			if strings.Contains(err.Error(), "role") {
				d.RoleError, fields[0].Error = "Choose a role.", ""
			}
			s.renderUsers(w, r, http.StatusBadRequest, d)
			return
		}
		s.pageFail(w, r, err)
		return
	}
	redirectFlash(w, r, "/admin/users", "Created account "+u.Email+".")
}

func (s *Server) pageDeleteUser(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	id := r.PathValue("id")
	if err := s.mayChangeUser(r.Context(), p, id, nil); err != nil {
		s.pageFail(w, r, err)
		return
	}
	if err := s.store.DeleteUser(r.Context(), p.OrganisationID, id); err != nil {
		s.pageFail(w, r, err)
		return
	}
	if id == p.UserID {
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		redirectFlash(w, r, "/admin/login", "")
		return
	}
	redirectFlash(w, r, "/admin/users", "Deleted the account.")
}

func ptrTo[T any](v T) *T { return &v }
