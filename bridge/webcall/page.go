package webcall

import (
	"embed"
	"errors"
	"io/fs"
	"net/http"
	"path"

	"github.com/bifrost-video/bifrost/bridge"
)

// web holds the join page: plain HTML, CSS and an ES module, no build step
// and nothing from a CDN.
//
//go:embed web
var web embed.FS

// The URL patterns of the join page, its files and its WebSocket (Go 1.22
// ServeMux patterns).
const (
	PatternPage   = "GET /join/{alias}"
	PatternAssets = "GET /join-assets/{file}"
	PatternSocket = "GET /join/{alias}/ws"
)

// csp lets the page use only its own files, its own WebSocket and the media
// streams it makes; no inline script or style.
const csp = "default-src 'self'; connect-src 'self'; media-src 'self' blob: mediastream:; img-src 'self' data:; " +
	"frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// PageHandler serves the join page of a room (PatternPage): 404 when no room
// has the alias.
func (s *Server) PageHandler() http.Handler {
	page, _ := fs.ReadFile(web, "web/join.html") // embedded: cannot fail
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("Cache-Control", "no-store")
		if _, err := s.br.Resolve(r.Context(), r.PathValue("alias")); err != nil {
			if errors.Is(err, bridge.ErrRoomNotFound) {
				http.Error(w, "There is no meeting at this address. Check the link.", http.StatusNotFound)
				return
			}
			s.log.Error("join page: cannot look up the room", "err", err)
			http.Error(w, "The meeting cannot be looked up now. Try again in a minute.", http.StatusServiceUnavailable)
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
}

// AssetsHandler serves the page's CSS and JavaScript (PatternAssets).
func (s *Server) AssetsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if name != path.Base(name) || path.Ext(name) == ".html" {
			http.NotFound(w, r)
			return
		}
		b, err := fs.ReadFile(web, "web/"+name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		switch path.Ext(name) {
		case ".js":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		case ".css":
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
		}
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	})
}

// SocketHandler serves the signalling WebSocket (PatternSocket).
func (s *Server) SocketHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeWebSocket(w, r, r.PathValue("alias"))
	})
}

// Handler serves the three on one mux: for tests and for running the join
// page without the web admin.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(PatternPage, s.PageHandler())
	mux.Handle(PatternAssets, s.AssetsHandler())
	mux.Handle(PatternSocket, s.SocketHandler())
	return mux
}
