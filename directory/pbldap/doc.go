// Package pbldap is the phonebook's read-only LDAP server for endpoints that
// read a corporate directory over LDAP: Poly (HDX, Group Series), Lifesize
// and any LDAP-capable endpoint (PROTOCOLS.md §2, §3).
//
// It speaks LDAPv3 (RFC 4511) itself on top of go-asn1-ber, so that it owns
// its listener and connections: the client's address for the request log,
// a read deadline per message, a bound on the size of a message before any of
// it is read, and a Close that ends every connection and waits.
//
// What a client sees:
//
//   - Simple bind (RFC 4513 §5.1.3) with the phonebook token as the password;
//     the Authenticator turns it into a Scope (an organisation and optionally
//     a folder subtree). Anonymous and unauthenticated binds and a wrong
//     password get invalidCredentials; a search without a bind gets
//     insufficientAccessRights. Only the root DSE is readable before a bind.
//   - The tree: the base DN (default "ou=phonebook,o=bifrost") is the Scope's
//     root folder; folders below it are "ou=" levels and entries are
//     "uid=<entry id>" leaves. Base, one-level and subtree scopes.
//   - Entries: inetOrgPerson with the H.350 classes (RFC 3944 commObject,
//     RFC 3945 h323Identity, RFC 3946 SIPIdentity) built from the entry's
//     addresses; only published entries (with a callable address).
//   - Filters (RFC 4511 §4.5.1.7): equality, presence, substrings, and/or/not,
//     evaluated exactly in Go with the matching rules of the attributes
//     (case-insensitive; telephoneNumberMatch for numbers; labeledURI exact
//     without substring matching, as in OpenLDAP's inetorgperson.schema).
//     approxMatch is evaluated as equality; greaterOrEqual, lessOrEqual and
//     extensibleMatch are Undefined (no attribute here has an ordering rule
//     or an extensible rule), so they match nothing.
//   - Where the entries come from: with Options.Books (as serve runs it) the
//     organisation's phonebook.Book in memory, the snapshot TMS, Yealink and
//     Cisco IP phones answer from, so every protocol shows the same entries
//     with the same addresses and a search never waits for the database;
//     where a filter names a text every match's name contains, the book's
//     name index narrows the candidates first (search_book.go). Without
//     Books, every search asks a Directory (directory.Store), narrowed by a
//     name, number or address text (search.go).
//   - Size limit (the client's and the server's), RFC 2696 paged results
//     (the server's limit caps a page, not the whole paged search), time
//     limit, attribute selection ("*", "1.1", names), typesOnly.
//   - Writes (add, modify, delete, modDN, compare) get unwillingToPerform.
//   - With a certificate: StartTLS (RFC 4511 §4.14) and optionally LDAPS on
//     a second address; RequireTLS refuses a bind in the clear.
//
// Where it answers differently from the LDAP server the directory was synced
// from (the tests replay polycom/ldap-queries-small.tsv and hold these):
// only published entries exist, so service accounts and leavers that a
// whole-base search of the source returns are absent; DNs are this tree's
// (uid=<entry id> under folder OUs), not the source's; sn and givenName are
// derived from the display name, not copied; labeledURI is rebuilt from the
// SIP and H.323 addresses in the fixture's "sip:… SIP" form, so equality on it
// matches as on the source and substrings match nothing, as there.
//
// Why not github.com/jimlambrt/gldap: v0.1.14 hides the client's address
// (the request log needs it), opens its own listener without telling its
// address (tests listen on port 0), sets one read deadline for a connection's
// whole life, accepts messages up to 2 GiB, and hands the filter over as a
// string. The protocol layer here is small (RFC 4511 §4.1–4.5, §4.12–4.14).
//
// Files by concept: server.go (listener, Close), conn.go (one connection:
// bind, extended operations, dispatch), message.go (BER framing and
// responses), filter.go and filter_eval.go (filters), entry.go (attributes),
// tree.go (DNs and folders), folders.go (the folder tree, reused for a few
// seconds), books.go (the books and their trees), search.go and
// search_book.go (running a search), paging.go.
//
// It imports directory for its types and directory/phonebook for its books,
// and must not import bridge, cdr or webadmin.
package pbldap
