// Package webadmin is Bifrost's HTTP face: health, readiness and metrics endpoints
// now; the admin pages, the REST API, authentication, tenancy and the audit log as
// they are built; and the browser join page.
//
// It may import directory and cdr and a read-only view of the bridge that it
// declares itself; it must not import bridge packages or migrations directly.
// cmd/bifrost wires it.
package webadmin
