package webadmin

import "net/http"

// createdToken is a new token with its secret, shown this once.
type createdToken struct {
	Token
	Secret string `json:"token"`
}

func (s *Server) apiListTokens(w http.ResponseWriter, r *http.Request) {
	page, err := pageParams(r)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	tokens, total, err := s.store.ListTokens(r.Context(), principal(r).OrganisationID, page)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listBody[Token]{Items: tokens, Total: total})
}

func (s *Server) apiGetToken(w http.ResponseWriter, r *http.Request) {
	t, err := s.store.GetToken(r.Context(), principal(r).OrganisationID, r.PathValue("id"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) apiCreateToken(w http.ResponseWriter, r *http.Request) {
	var in TokenInput
	if err := decodeJSON(r, &in); err != nil {
		s.apiFail(w, r, err)
		return
	}
	p := principal(r)
	t, secret, err := s.store.CreateToken(r.Context(), p.OrganisationID, in, p.UserID)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/tokens/"+t.ID)
	writeJSON(w, http.StatusCreated, createdToken{Token: t, Secret: secret})
}

func (s *Server) apiRevokeToken(w http.ResponseWriter, r *http.Request) {
	if err := s.store.RevokeToken(r.Context(), principal(r).OrganisationID, r.PathValue("id")); err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
