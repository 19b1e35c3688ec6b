package webadmin

import "net/http"

type userFormData struct {
	User       User
	Self       bool
	CanSetRole bool
	Fields     []field
}

// userEditFields are the account form's fields: a person editing their own
// account changes their name and password; an admin also the e-mail.
func userEditFields(u User, self, admin bool, r *http.Request) []field {
	name, email := u.Name, u.Email
	if r.Method == http.MethodPost {
		name, email = r.PostFormValue("name"), r.PostFormValue("email")
	}
	f := []field{{Name: "name", Label: "Name", Type: "text", Value: name}}
	if admin && !self {
		f = append(f, field{Name: "email", Label: "E-mail", Type: "email", Value: email, Required: true, Autocomplete: "off"})
	}
	return append(f, field{Name: "password", Label: "New password", Type: "password", Autocomplete: "new-password",
		Hint: "Leave empty to keep the password. At least 12 characters; changing it signs the account out everywhere."})
}

// userForm loads user id and says what p may change of it.
func (s *Server) userForm(r *http.Request, p Principal) (userFormData, error) {
	id := r.PathValue("id")
	if err := s.mayChangeUser(r.Context(), p, id, nil); err != nil {
		return userFormData{}, err
	}
	u, err := s.store.GetUser(r.Context(), p.OrganisationID, id)
	if err != nil {
		return userFormData{}, err
	}
	self := u.ID == p.UserID
	d := userFormData{User: u, Self: self, CanSetRole: p.CanWrite() && (!self || p.IsSystem())}
	d.Fields = userEditFields(u, self, p.CanWrite(), r)
	return d, nil
}

func (s *Server) pageEditUser(w http.ResponseWriter, r *http.Request) {
	d, err := s.userForm(r, principal(r))
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "user_form", "Account", "/admin/users", d)
}

func (s *Server) pageUpdateUser(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	d, err := s.userForm(r, p)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	in := UserInput{Name: ptrTo(r.PostFormValue("name"))}
	if pw := r.PostFormValue("password"); pw != "" {
		in.Password = &pw
	}
	if p.CanWrite() && !d.Self {
		in.Email = ptrTo(r.PostFormValue("email"))
	}
	if d.CanSetRole {
		role := Role(r.PostFormValue("role"))
		in.Role = &role
	}
	if err := s.mayChangeUser(r.Context(), p, d.User.ID, &in); err != nil {
		s.pageFail(w, r, err)
		return
	}
	if _, err := s.store.UpdateUser(r.Context(), p.OrganisationID, d.User.ID, in); err != nil {
		if formError(d.Fields, err) {
			s.render(w, r, http.StatusBadRequest, "user_form", "Account", "/admin/users", d)
			return
		}
		s.pageFail(w, r, err)
		return
	}
	if d.Self && in.Password != nil {
		// The new password ended every session, this one too.
		redirectFlash(w, r, "/admin/login", "")
		return
	}
	redirectFlash(w, r, "/admin/users", "Saved the account.")
}
