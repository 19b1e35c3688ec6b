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
	// CountLimit bounds the counting of Total (0: 1000; negative: count all),
	// so that a one-letter search over a large directory stays fast.
	CountLimit int
}

// Page is one page of a query's result.
type Page struct {
	Entries []Entry `json:"entries"`
	// Total is the number of matches, counted up to the query's CountLimit;
	// More is true when there are more than that.
	Total int  `json:"total"`
	More  bool `json:"more,omitempty"`
}

// Search returns the entries matching q, sorted by the code points of their
// lower-case names (the order endpoints page through).
//
// A text search first collects at most CountLimit+1 matches (through the
// trigram index when the text is selective, else a sequential scan that stops
// early) and, in the same statement, counts them and sorts out the requested
// page: one round trip for the usual search with few matches. When there are
// more matches than that, the page is read by walking the name index in order
// from the text's start bound (startBound), which finds a page of a frequent
// match quickly wherever its matches sort.
func (s *Store) Search(ctx context.Context, orgID string, q Query) (Page, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	countLimit := q.CountLimit
	if countLimit == 0 {
		countLimit = 1000
	}
	p := Page{Entries: []Entry{}}
	found := false
	if strings.TrimSpace(q.Text) != "" && countLimit > 0 {
		var err error
		if p, found, err = s.searchFew(ctx, orgID, q, limit, countLimit); err != nil {
			return Page{}, err
		}
	}
	if !found {
		cond, args := q.where(orgID)
		nargs := len(args)
		arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
		if !p.More {
			countSQL := `SELECT count(*) FROM directory_entries e WHERE ` + cond
			if countLimit > 0 {
				countSQL = `SELECT count(*) FROM (SELECT 1 FROM directory_entries e WHERE ` + cond + ` LIMIT ` + arg(countLimit+1) + `) s`
			}
			if err := s.db.GetContext(ctx, &p.Total, countSQL, args...); err != nil {
				return Page{}, notFound(err, "search count")
			}
			if countLimit > 0 && p.Total > countLimit {
				p.Total, p.More = countLimit, true
			}
			args = args[:nargs]
		}
		if p.Total == 0 || q.Offset >= p.Total && !p.More {
			return p, nil
		}
		if strings.TrimSpace(q.Text) != "" {
			cond += " AND e.sort_name >= (" + startBound(q.Text, arg) + ")"
		}
		query := `SELECT ` + prefixed("e.", entryColumns) + ` FROM directory_entries e WHERE ` + cond +
			` ORDER BY e.sort_name, e.id LIMIT ` + arg(limit) + ` OFFSET ` + arg(max(q.Offset, 0))
		if err := s.db.SelectContext(ctx, &p.Entries, query, args...); err != nil {
			return Page{}, notFound(err, "search")
		}
	}
	if err := loadAddresses(ctx, s.db, orgID, p.Entries); err != nil {
		return Page{}, err
	}
	return p, nil
}

// searchFew runs a text search in one statement: it collects up to
// countLimit+1 matches, counts them and returns the requested page sorted.
// found is false when the page could not be told from those matches: either
// there are more than countLimit (p.More is then set, Total is countLimit), or
// the page lies past the last match (p.Total is then unknown).
func (s *Store) searchFew(ctx context.Context, orgID string, q Query, limit, countLimit int) (p Page, found bool, err error) {
	cond, args := q.where(orgID)
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	query := `WITH hits AS MATERIALIZED (SELECT e.* FROM directory_entries e WHERE ` + cond + ` LIMIT ` + arg(countLimit+1) + `)
		SELECT ` + prefixed("e.", entryColumns) + `, (SELECT count(*) FROM hits) AS search_total
		FROM hits e ORDER BY e.sort_name, e.id LIMIT ` + arg(limit) + ` OFFSET ` + arg(max(q.Offset, 0))
	var rows []struct {
		Entry
		Total int `db:"search_total"`
	}
	if err := s.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return Page{}, false, notFound(err, "search")
	}
	p = Page{Entries: []Entry{}}
	if len(rows) == 0 {
		// No match at all, or an offset past the last one: only the former
		// is known without counting.
		return p, q.Offset <= 0, nil
	}
	if rows[0].Total > countLimit {
		p.Total, p.More = countLimit, true
		return p, false, nil
	}
	p.Total = rows[0].Total
	p.Entries = make([]Entry, len(rows))
	for i := range rows {
		p.Entries[i] = rows[i].Entry
	}
	return p, true, nil
}

// startBound returns a query (its one row, column v) of the sort_name at
// which a walk in name order can start looking for matches of text: every
// match holds each character of the folded text, so it sorts at or after the
// bound migration 0006 keeps for each of them (directory_search_hints), and
// thus after the largest. The digits alternative of a phone number (where)
// matches other text, so with one the smaller start of the two is taken. A
// character without a bound adds none: the start is then the beginning.
func startBound(text string, arg func(any) string) string {
	text = strings.TrimSpace(text)
	one := func(chars string) string {
		return `SELECT coalesce(max(h.first_sort), '') FROM directory_search_hints h
			WHERE h.organisation_id = $1 AND h.ch = ANY(string_to_array(` + chars + `, NULL))`
	}
	b := "(" + one("directory_fold("+arg(text)+")") + ")"
	if d := digitsOf(text); d != "" {
		b = "least(" + b + ", (" + one(arg(d)) + "))"
	}
	return `SELECT ` + b + ` COLLATE "C" AS v`
}

// where returns the condition (on alias e) and arguments of q.
func (q Query) where(orgID string) (string, []any) {
	args := []any{orgID}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	cond := "e.organisation_id = $1"
	if text := strings.TrimSpace(q.Text); text != "" {
		// directory_fold is IMMUTABLE, so the planner folds the pattern to a
		// constant and can use the trigram index on search_text.
		m := "e.search_text LIKE directory_fold(" + arg("%"+escapeLike(text)+"%") + ")"
		if d := digitsOf(text); d != "" {
			m += " OR e.search_text LIKE " + arg("%"+d+"%")
		}
		cond += " AND (" + m + ")"
	}
	switch {
	case q.FolderID != nil:
		cond += " AND e.folder_id = " + arg(*q.FolderID) + "::uuid"
	case q.InRoot:
		cond += " AND e.folder_id IS NULL"
	}
	if q.PublishedOnly {
		cond += " AND e.published"
	}
	return cond, args
}

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
