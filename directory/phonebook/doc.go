// Package phonebook serves an organisation's directory to hardware video
// endpoints in their vendors' protocols, and logs every request.
//
// Files by concept:
//
//   - token.go: phonebook tokens, the secrets in phonebook URLs (and the LDAP
//     bind password) that select an organisation and optionally a folder
//     subtree; stored as SHA-256 (migration 0009).
//   - book.go, cache.go: the one query layer every protocol answers from. A
//     Book is an immutable in-memory snapshot of an organisation's published
//     directory (folders first, then contacts, each in code point order of the
//     lower-case name; stable `c_`/`e_` Ids); Cache loads books through package
//     directory's exported API and refreshes them in the background.
//     book_entries.go gives the book's directory folders and entries to
//     package pbldap, which answers LDAP from the same books.
//   - tms_request.go, tms_response.go, tms.go: the Cisco TMS phonebook SOAP
//     service (`Search`, `GetPhonebooks`; PROTOCOLS.md §1). The hot path:
//     tms_request_fast.go reads the requests endpoints send without
//     encoding/xml (which takes every other body), tms_fragment.go keeps each
//     entry's and folder's rendered XML with its book. Answers without
//     paging stop at MaxBulkContacts: the whole Yealink book there; a
//     GetPhonebooks answers IsLast=false and continues after StartFromId,
//     as Search pages.
//   - yealink.go, ciscoipphone.go: Yealink remote phonebook XML and Cisco IP
//     phone XML (PROTOCOLS.md §1.12, §4).
//   - handler.go: the /pb/{token}/… routes.
//   - requestlog.go: the request log, written in batches off the request
//     path, each batch one COPY of rows encoded in COPY's text format.
//   - privacy.go: anonymisation of the request log after retention and the
//     subject access/erasure queries cmd/bifrost registers with package cdr.
//   - commands.go: `bifrost phonebook create|urls|list|revoke`.
//
// It must not import bridge, cdr or webadmin.
package phonebook
