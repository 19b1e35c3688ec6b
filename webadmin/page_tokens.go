package webadmin

import "net/http"

type tokensData struct {
	Tokens             []Token
	Pager              pager
	NameField          field
	Secret, SecretName string
}

func tokenNameField(v string) field {
	return field{Name: "name", Label: "Name", Type: "text", Value: v, Required: true, Hint: "What uses it, e.g. “booking system”."}
}

func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, status int, d tokensData) {
	page := pageOf(r)
	tokens, total, err := s.store.ListTokens(r.Context(), principal(r).OrganisationID, page)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	d.Tokens, d.Pager = tokens, makePager(r, page, len(tokens), total)
	if d.NameField.Name == "" {
		d.NameField = tokenNameField("")
	}
	s.render(w, r, status, "tokens", "API tokens", "/admin/tokens", d)
}

func (s *Server) pageTokens(w http.ResponseWriter, r *http.Request) {
	s.renderTokens(w, r, http.StatusOK, tokensData{})
}

// pageCreateToken creates a token and shows its secret on the answer itself,
// never in a URL or a redirect.
func (s *Server) pageCreateToken(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	in := TokenInput{Name: r.PostFormValue("name"), Role: Role(r.PostFormValue("role"))}
	t, secret, err := s.store.CreateToken(r.Context(), p.OrganisationID, in, p.UserID)
	if err != nil {
		f := []field{tokenNameField(in.Name)}
		if formError(f, err) {
			s.renderTokens(w, r, http.StatusBadRequest, tokensData{NameField: f[0]})
			return
		}
		s.pageFail(w, r, err)
		return
	}
	s.renderTokens(w, r, http.StatusCreated, tokensData{Secret: secret, SecretName: t.Name})
}

func (s *Server) pageRevokeToken(w http.ResponseWriter, r *http.Request) {
	if err := s.store.RevokeToken(r.Context(), principal(r).OrganisationID, r.PathValue("id")); err != nil {
		s.pageFail(w, r, err)
		return
	}
	redirectFlash(w, r, "/admin/tokens", "Revoked the token.")
}
