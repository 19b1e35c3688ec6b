package main

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/cdr"
	"github.com/bifrost-video/bifrost/directory/phonebook"
)

// phonebookSource covers the phonebook request log (phonebook_requests,
// migration 0009): rows whose endpoint name, bind name or search string is
// the subject. Erasure clears their personal data and keeps the usage counts.
var phonebookSource = cdr.SubjectSource{
	Name: "phonebook_requests",
	Export: func(ctx context.Context, q sqlx.QueryerContext, org string, s cdr.Subject) (any, int, error) {
		rows, err := phonebook.ExportSubject(ctx, q, org, phonebook.Subject{Lower: s.Lower, Email: s.Email, Digits: s.Digits})
		return rows, len(rows), err
	},
	Erase: func(ctx context.Context, tx *sqlx.Tx, org string, s cdr.Subject) (int64, error) {
		return phonebook.EraseSubject(ctx, tx, org, phonebook.Subject{Lower: s.Lower, Email: s.Email, Digits: s.Digits}, time.Now())
	},
}

// phonebookAnonymiser clears the request log's personal data after the
// organisation's usage retention, with the call records.
var phonebookAnonymiser = cdr.Anonymiser{Name: "phonebook_requests", Run: phonebook.Anonymiser{}.Run}
