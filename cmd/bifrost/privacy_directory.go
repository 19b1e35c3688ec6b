package main

import (
	"context"
	"encoding/json"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/cdr"
)

// directorySubjectCond selects the directory entries (migration 0005) that
// are about a subject: $1 the organisation, $2 the lower-cased name as given,
// $3 the e-mail address (a SIP URI's address part), $4 the digits of a phone
// number. A name matches the entry's display name ignoring case; an address
// matches a SIP address without its scheme, or a phone number by its digits.
const directorySubjectCond = `e.organisation_id = $1 AND (
	lower(e.display_name) = $2
	OR EXISTS (SELECT 1 FROM directory_addresses a WHERE a.entry_id = e.id AND a.organisation_id = $1 AND (
		($3 <> '' AND a.kind IN ('sip', 'h323') AND a.normalised = directory_fold($3))
		OR ($4 <> '' AND a.kind IN ('tel', 'e164') AND ltrim(a.normalised, '+') = $4))))`

// directorySource covers the phonebook's entries and their addresses
// (directory_entries, directory_addresses: names, titles, departments, SIP
// addresses and phone numbers are personal data). Erasure deletes the
// entries; an entry an LDAP source syncs comes back with the next run unless
// the person is removed from the LDAP server too, which is where such data
// is kept — the export says which source each entry comes from.
var directorySource = cdr.SubjectSource{
	Name: "directory_entries",
	Export: func(ctx context.Context, q sqlx.QueryerContext, org string, s cdr.Subject) (any, int, error) {
		rows := []json.RawMessage{}
		err := sqlx.SelectContext(ctx, q, &rows, `SELECT jsonb_build_object(
				'id', e.id, 'kind', e.kind, 'display_name', e.display_name, 'title', e.title,
				'department', e.department, 'organisation_name', e.organisation_name,
				'ldap_source', (SELECT name FROM ldap_sources l WHERE l.id = e.source_id), 'source_dn', e.source_dn,
				'created_at', e.created_at, 'updated_at', e.updated_at,
				'addresses', (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', a.kind, 'label', a.label, 'value', a.value) ORDER BY a.position), '[]')
					FROM directory_addresses a WHERE a.entry_id = e.id))
			FROM directory_entries e WHERE `+directorySubjectCond+` ORDER BY e.sort_name, e.id`,
			org, s.Lower, s.Email, s.Digits)
		return rows, len(rows), err
	},
	Erase: func(ctx context.Context, tx *sqlx.Tx, org string, s cdr.Subject) (int64, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM directory_entries e WHERE `+directorySubjectCond, org, s.Lower, s.Email, s.Digits)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	},
}
