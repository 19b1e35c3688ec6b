package webadmin

import "net/http"

type organisationsData struct {
	Organisations []Organisation
	NameField     field
}

func (s *Server) renderOrganisations(w http.ResponseWriter, r *http.Request, status int, name field) {
	orgs, err := s.store.ListOrganisations(r.Context())
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	s.render(w, r, status, "organisations", "Organisations", "/admin/organisations", organisationsData{Organisations: orgs, NameField: name})
}

func orgNameField(v string) field {
	return field{Name: "name", Label: "Name", Type: "text", Value: v, Required: true}
}

func (s *Server) pageOrganisations(w http.ResponseWriter, r *http.Request) {
	s.renderOrganisations(w, r, http.StatusOK, orgNameField(""))
}

func (s *Server) pageCreateOrganisation(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("name")
	o, err := s.store.CreateOrganisation(r.Context(), name)
	if err != nil {
		f := []field{orgNameField(name)}
		if formError(f, err) {
			s.renderOrganisations(w, r, http.StatusBadRequest, f[0])
			return
		}
		s.pageFail(w, r, err)
		return
	}
	redirectFlash(w, r, "/admin/organisations", "Created organisation "+o.Name+".")
}

// pageSwitchOrganisation makes the system user's pages act on another organisation.
func (s *Server) pageSwitchOrganisation(w http.ResponseWriter, r *http.Request) {
	sess := sessionFrom(r.Context())
	if sess == nil {
		s.pageFail(w, r, ErrForbidden)
		return
	}
	if err := s.store.SwitchOrganisation(r.Context(), sess.id, r.PathValue("id")); err != nil {
		s.pageFail(w, r, err)
		return
	}
	redirectFlash(w, r, "/admin/", "")
}
