package phonebook

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// personalColumns are phonebook_requests' personal data columns (migration
// 0009), cleared by anonymisation and erasure.
const clearPersonal = `client_ip = '', forwarded_for = '', reported_ip = '', reported_ipv6 = '', search_string = '',
	system_name = '', mac_address = '', serial_number = '', user_agent = '', bind_name = ''`

// Anonymiser clears the personal data of request log rows older than an
// organisation's retention. Its Run has the shape of cdr.Anonymiser.Run;
// cmd/bifrost registers it with the cdr retention job.
type Anonymiser struct {
	// Now is the clock (anonymised_at). Default time.Now.
	Now func() time.Time
	// BatchSize is how many rows one statement changes. Default 20000.
	BatchSize int
}

// Run anonymises (or, with dryRun, counts) orgID's rows older than cutoff
// and returns how many. It is idempotent, and safe alongside another run:
// rows another run holds are skipped, and anonymised rows are never counted
// again.
func (a Anonymiser) Run(ctx context.Context, db *sqlx.DB, orgID string, cutoff time.Time, dryRun bool) (int64, error) {
	if dryRun {
		var n int64
		err := db.GetContext(ctx, &n, `SELECT count(*) FROM phonebook_requests
			WHERE organisation_id = $1 AND at < $2 AND anonymised_at IS NULL`, orgID, cutoff)
		if err != nil {
			return 0, fmt.Errorf("phonebook: count requests to anonymise: %w", err)
		}
		return n, nil
	}
	now, batch := time.Now, a.BatchSize
	if a.Now != nil {
		now = a.Now
	}
	if batch <= 0 {
		batch = 20000
	}
	var total int64
	for {
		res, err := db.ExecContext(ctx, `UPDATE phonebook_requests SET `+clearPersonal+`, anonymised_at = $3
			WHERE id IN (SELECT id FROM phonebook_requests
				WHERE organisation_id = $1 AND at < $2 AND anonymised_at IS NULL
				ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)`, orgID, cutoff, now(), batch)
		if err != nil {
			return total, fmt.Errorf("phonebook: anonymise requests: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < int64(batch) {
			return total, nil
		}
	}
}

// Subject is a person as a privacy request names them, in the normalised
// forms cdr.Subject carries: the lower-cased text, an e-mail address (or a
// SIP URI's address part) and the digits of a phone number.
type Subject struct {
	Lower, Email, Digits string
}

// subjectMatch finds the request log rows (alias r) about a subject: the
// endpoint's system name, the bind name or the search string equal to the
// name or address given (ignoring case). $1 organisation, $2 Lower, $3 Email.
const subjectMatch = `r.organisation_id = $1 AND r.anonymised_at IS NULL AND (
	lower(r.system_name) = $2 OR lower(r.search_string) = $2 OR lower(r.bind_name) = $2
	OR ($3 <> '' AND (lower(r.system_name) = $3 OR lower(r.search_string) = $3)))`

// ExportSubject returns the request log rows about s (GDPR art. 15).
func ExportSubject(ctx context.Context, q sqlx.QueryerContext, orgID string, s Subject) ([]json.RawMessage, error) {
	rows := []json.RawMessage{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT to_jsonb(r) - 'organisation_id' FROM phonebook_requests r
		WHERE `+subjectMatch+` ORDER BY r.at, r.id`, orgID, s.Lower, s.Email)
	if err != nil {
		return nil, fmt.Errorf("phonebook: export subject: %w", err)
	}
	return rows, nil
}

// EraseSubject clears the personal data of the request log rows about s
// (GDPR art. 17), keeping the usage counts, and returns how many.
func EraseSubject(ctx context.Context, tx *sqlx.Tx, orgID string, s Subject, now time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE phonebook_requests r SET `+clearPersonal+`, anonymised_at = $4
		WHERE `+subjectMatch, orgID, s.Lower, s.Email, now)
	if err != nil {
		return 0, fmt.Errorf("phonebook: erase subject: %w", err)
	}
	return res.RowsAffected()
}
