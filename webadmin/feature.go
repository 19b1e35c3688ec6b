package webadmin

import "net/http"

// Access is what a route requires of the principal.
type Access int

// The access levels of routes.
const (
	// AccessPublic needs no sign-in (login page, static files, the OpenAPI document).
	AccessPublic Access = iota
	// AccessRead needs any signed-in user or token of the organisation.
	AccessRead
	// AccessWrite needs role admin or system; a viewer gets 403.
	AccessWrite
	// AccessSystem needs role system; others get 403.
	AccessSystem
)

// Route is one URL the server serves. Pattern is a net/http ServeMux pattern with
// a method ("GET /api/v1/rooms/{id}"). Patterns under /api/ are API routes
// (Bearer token or session, JSON errors); under /admin/ page routes (session,
// redirect to sign-in, CSRF token on every form). The handler finds the principal
// with PrincipalFrom and must scope every query by its OrganisationID.
type Route struct {
	Pattern string
	Access  Access
	Handler http.Handler
}

// NavItem is an entry of the admin pages' navigation.
type NavItem struct {
	Title string
	Path  string // e.g. "/admin/directory/"
	// Access is who sees the entry (AccessRead: everyone signed in).
	Access Access
}

// Feature is a part of the admin that another package contributes (the
// directory, call records, live conferences): its routes, wrapped in the same
// authentication, role check and CSRF protection as the built-in ones, and its
// navigation entries. cmd/bifrost passes features in Deps.Features. A feature's
// API routes belong in the OpenAPI document too (TestOpenAPICoversEveryRoute).
type Feature struct {
	Name   string
	Routes []Route
	Nav    []NavItem
	// OpenAPIPaths is the feature's part of the OpenAPI document's "paths"
	// object, as JSON; it is merged into /api/v1/openapi.json.
	OpenAPIPaths []byte
}
