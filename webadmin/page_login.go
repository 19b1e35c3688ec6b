package webadmin

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
)

type loginData struct {
	Email, Next, Error string
}

// safeNext keeps a post-sign-in redirect on the admin pages.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/admin/") && !strings.HasPrefix(next, "//") && !strings.Contains(next, `\`) {
		return next
	}
	return "/admin/"
}

func (s *Server) pageLogin(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", "Sign in", "", loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

// pageLoginPost checks the credentials, throttled per account and per address,
// starts a session and sets its cookie.
func (s *Server) pageLoginPost(w http.ResponseWriter, r *http.Request) {
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	data := loginData{Email: email, Next: safeNext(r.PostFormValue("next"))}
	u, err := s.store.Login(r.Context(), email, password, r.RemoteAddr)
	var te *ThrottledError
	switch {
	case errors.As(err, &te):
		mins := int(math.Ceil(te.Until.Sub(s.deps.Now()).Minutes()))
		data.Error = fmt.Sprintf("Too many failed sign-ins for this account or from this address. Try again in %d minute%s.", mins, plural(mins))
		s.render(w, r, http.StatusTooManyRequests, "login", "Sign in", "", data)
		return
	case errors.Is(err, ErrBadCredentials):
		data.Error = "Wrong e-mail address or password."
		s.render(w, r, http.StatusUnauthorized, "login", "Sign in", "", data)
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	org := ""
	if u.OrganisationID != nil {
		org = *u.OrganisationID
	}
	id, expires, err := s.store.CreateSession(r.Context(), u, org, r.RemoteAddr, r.UserAgent())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	// Sign-ins are rare: a good moment to drop expired sessions and throttling rows.
	if _, err := s.store.DeleteExpired(r.Context()); err != nil {
		s.deps.Logger.WarnContext(r.Context(), "dropping expired sessions failed", "err", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: id, Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(r),
	})
	http.Redirect(w, r, data.Next, http.StatusSeeOther)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// secureCookies reports whether cookies get the Secure flag: behind TLS, or when
// the public URL is https (a TLS-terminating proxy in front).
func (s *Server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.cfg.PublicURL, "https://")
}

func (s *Server) pageLogout(w http.ResponseWriter, r *http.Request) {
	if sess := sessionFrom(r.Context()); sess != nil {
		if err := s.store.DeleteSession(r.Context(), sess.id); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(r)})
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}
