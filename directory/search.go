package directory

import (
	"context"
	"fmt"
	"strings"
)

// Query selects entries of one organisation.
type Query struct {
	// Text matches anywhere in the name or an address, ignoring case and
	// accents ("ovrebo" finds "Hanne Øvrebø"); digits also match phone numbers
	// written with spaces. Empty matches everything.
	Text string
	// FolderID limits the result to the entries directly in a folder; nil with
	// InRoot limits it to the root folder; nil without InRoot does not limit.
	FolderID *string
	InRoot   bool
	// PublishedOnly drops entries without a callable address.
	PublishedOnly bool
	Limit, Offset int // Limit 0 means 100; at most 1000
}

// Page is one page of a query's result.
type Page struct {
	Entries []Entry `json:"entries"`
	Total   int     `json:"total"` // all matches, not only this page
}

// Search returns the entries matching q, sorted by the code points of their
// case-folded names (the order endpoints page through).
func (s *Store) Search(ctx context.Context, orgID string, q Query) (Page, error) {
	var where []string
	args := []any{orgID}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if text := strings.TrimSpace(q.Text); text != "" {
		pat := arg("%" + escapeLike(text) + "%")
		addr := "normalised LIKE directory_fold(" + pat + ")"
		if d := digitsOf(text); d != "" {
			addr += " OR normalised LIKE " + arg("%"+d+"%")
		}
		where = append(where, `e.id IN (
			SELECT id FROM directory_entries WHERE organisation_id = $1 AND directory_fold(display_name) LIKE directory_fold(`+pat+`)
			UNION
			SELECT entry_id FROM directory_addresses WHERE organisation_id = $1 AND (`+addr+`))`)
	}
	switch {
	case q.FolderID != nil:
		where = append(where, "e.folder_id = "+arg(*q.FolderID)+"::uuid")
	case q.InRoot:
		where = append(where, "e.folder_id IS NULL")
	}
	if q.PublishedOnly {
		where = append(where, publishedCond)
	}
	cond := "e.organisation_id = $1"
	for _, w := range where {
		cond += " AND " + w
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var rows []struct {
		Entry
		Total int `db:"total"`
	}
	err := s.db.SelectContext(ctx, &rows, `
		SELECT `+prefixed("e.", entryColumns)+`, count(*) OVER () AS total
		FROM directory_entries e WHERE `+cond+`
		ORDER BY lower(e.display_name) COLLATE "C", e.id
		LIMIT `+arg(limit)+` OFFSET `+arg(max(q.Offset, 0)), args...)
	if err != nil {
		return Page{}, notFound(err, "search")
	}
	p := Page{Entries: make([]Entry, len(rows))}
	for i, r := range rows {
		p.Entries[i] = r.Entry
		p.Total = r.Total
	}
	if len(rows) == 0 && q.Offset > 0 {
		// Past the end: count separately so the caller still learns the total.
		if err := s.db.GetContext(ctx, &p.Total, `SELECT count(*) FROM directory_entries e WHERE `+cond, args[:len(args)-2]...); err != nil {
			return Page{}, fmt.Errorf("directory: search count: %w", err)
		}
	}
	if err := loadAddresses(ctx, s.db, orgID, p.Entries); err != nil {
		return Page{}, err
	}
	return p, nil
}

// publishedCond is true for an entry with a callable address.
const publishedCond = `EXISTS (SELECT 1 FROM directory_addresses a WHERE a.entry_id = e.id AND a.kind IN ('sip', 'h323', 'e164'))`

// PublishedEntries returns the entries directly in a folder (nil: the root)
// that endpoints may see: those with a callable address, sorted by name.
func (s *Store) PublishedEntries(ctx context.Context, orgID string, folderID *string) ([]Entry, error) {
	var out []Entry
	for off := 0; ; off += 1000 {
		p, err := s.Search(ctx, orgID, Query{FolderID: folderID, InRoot: folderID == nil, PublishedOnly: true, Limit: 1000, Offset: off})
		if err != nil {
			return nil, err
		}
		out = append(out, p.Entries...)
		if len(p.Entries) < 1000 {
			return out, nil
		}
	}
}

// digitsOf returns the digits of s (with a leading +) when s looks like a
// phone number, else "".
func digitsOf(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' || r == '/':
		default:
			return ""
		}
	}
	if b.Len() < 2 {
		return ""
	}
	return b.String()
}

// escapeLike escapes LIKE's wildcards so a search string is taken literally.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func prefixed(p, cols string) string {
	fs := strings.Split(cols, ",")
	for i, f := range fs {
		fs[i] = p + strings.TrimSpace(f)
	}
	return strings.Join(fs, ", ")
}
