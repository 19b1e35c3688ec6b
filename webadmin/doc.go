// Package webadmin is Bifrost's HTTP face: health, readiness and metrics; the
// admin pages under /admin/ (server-rendered html/template, embedded templates
// and stylesheet, no script); the REST API under /api/v1/ with its OpenAPI 3
// document; authentication (argon2id passwords, sessions stored hashed in
// PostgreSQL, API tokens stored hashed, sign-in throttled per account and per
// address), CSRF protection, tenancy and the audit log; and the CLI commands
// org, admin, token and room.
//
// Tenancy: every store query of an organisation's object is scoped by the
// organisation's ID, so another organisation's object is ErrNotFound (404).
// Every mutation records an audit entry in its transaction, with the actor of the
// context and no secret.
//
// Routes are declared in one table (routes.go); each has an Access level that
// guard enforces. Other packages add pages, API resources and navigation entries
// through Deps.Features (feature.go), find the principal with PrincipalFrom, and
// render their own templates inside the admin layout with RenderPage
// (feature_page.go).
// cmd/bifrost resolves dialled aliases with LookupRoom.
//
// It may import directory and cdr and a read-only view of the bridge that it
// declares itself; it must not import bridge packages or migrations directly.
// cmd/bifrost wires it.
package webadmin
