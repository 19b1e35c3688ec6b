package cdr

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"

	"github.com/jmoiron/sqlx"
)

// exportPage is how many rows an export reads per query; a variable so tests
// can make it small.
var exportPage = 1000

// ExportLegsCSV writes every leg matching f as CSV with a header row, newest
// first; f's Limit and Offset are ignored. It reads page by page inside one
// read-only repeatable-read transaction, so the file is one consistent
// snapshot however long the export takes and however many calls end meanwhile.
func ExportLegsCSV(ctx context.Context, db *sqlx.DB, f Filter, w io.Writer) error {
	var args []any
	where, err := f.where(&args)
	if err != nil {
		return err
	}
	return export(ctx, db, w, legsCSVHeader, legCSVRow, func(tx *sqlx.Tx, f Filter) ([]Leg, error) {
		return selectLegs(ctx, tx, where, f, args)
	}, f)
}

// ExportConferencesCSV writes every conference matching f as CSV with a
// header row, newest first, like ExportLegsCSV.
func ExportConferencesCSV(ctx context.Context, db *sqlx.DB, f Filter, w io.Writer) error {
	var args []any
	where, err := f.conferenceWhere(&args)
	if err != nil {
		return err
	}
	return export(ctx, db, w, conferencesCSVHeader, conferenceCSVRow, func(tx *sqlx.Tx, f Filter) ([]Conference, error) {
		return selectConferences(ctx, tx, where, f, args)
	}, f)
}

func export[T any](ctx context.Context, db *sqlx.DB, w io.Writer, header []string, row func(T) []string,
	page func(*sqlx.Tx, Filter) ([]T, error), f Filter) error {
	tx, err := db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("cdr: export: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	f.Limit = exportPage
	for f.Offset = 0; ; f.Offset += exportPage {
		items, err := page(tx, f)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := cw.Write(row(it)); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if len(items) < exportPage {
			return nil
		}
	}
}
