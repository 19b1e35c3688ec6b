package directory

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
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
// It is one round trip: directory_search_page (migration 0012) finds the
// page's entry IDs and the count, and the same statement joins their columns
// and addresses. The function collects at most CountLimit+1 matches (through
// the trigram index when the text is selective, a range of the name index
// from the text's start bound when its matches sort late, else a scan that
// stops early), counts them and sorts out the requested page; when there are
// more matches than that, the page is read by walking the name index in order
// from the start bound, which finds a page of a frequent match quickly
// wherever its matches sort. Through the trigram index it reads only the
// trigrams worth reading (migration 0014): those common in the organisation
// (a SIP domain, a number prefix) are left out when the rarer ones narrow
// enough, and the whole text is checked on the rows found.
func (s *Store) Search(ctx context.Context, orgID string, q Query) (Page, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	offset := max(q.Offset, 0)
	var countLimit *int // nil: count all
	switch {
	case q.CountLimit == 0:
		countLimit = ptrTo(1000)
	case q.CountLimit > 0:
		countLimit = ptrTo(q.CountLimit)
	}
	text := strings.TrimSpace(q.Text)
	args := []any{orgID, text, digitsOf(text), q.FolderID, q.FolderID == nil && q.InRoot, q.PublishedOnly, limit, offset, countLimit}
	stmt, err := s.prepareSearch(ctx)
	if err != nil {
		return Page{}, err
	}
	var rows []searchRow
	if err := stmt.SelectContext(ctx, &rows, args...); err != nil {
		return Page{}, notFound(err, "search")
	}
	p := Page{Entries: make([]Entry, len(rows))}
	if len(rows) == 0 {
		if offset == 0 {
			return p, nil // no match at all
		}
		// A page past the last match: only the count is left to tell.
		if err := s.db.QueryRowxContext(ctx, `SELECT total, more FROM directory_search_page($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			args...).Scan(&p.Total, &p.More); err != nil {
			return Page{}, notFound(err, "search count")
		}
		return p, nil
	}
	p.Total, p.More = rows[0].Total, rows[0].More
	for i := range rows {
		r := &rows[i]
		if len(r.Kinds) != len(r.Labels) || len(r.Kinds) != len(r.Values) {
			return Page{}, fmt.Errorf("directory: search: entry %s: addresses out of step", r.ID)
		}
		r.Entry.Addresses = make([]Address, len(r.Kinds))
		for j := range r.Kinds {
			r.Entry.Addresses[j] = Address{Kind: AddressKind(r.Kinds[j]), Label: r.Labels[j], Value: r.Values[j]}
		}
		p.Entries[i] = r.Entry
	}
	return p, nil
}

// searchRow is one row of searchSQL: an entry of the page with its
// addresses (in order, as parallel arrays) and the page's count.
type searchRow struct {
	Entry
	Total  int            `db:"search_total"`
	More   bool           `db:"search_more"`
	Kinds  pq.StringArray `db:"address_kinds"`
	Labels pq.StringArray `db:"address_labels"`
	Values pq.StringArray `db:"address_values"`
}

// searchSQL reads the page directory_search_page finds, in its order, with
// each entry's columns and addresses. Every table it reads is limited to the
// organisation again.
var searchSQL = `SELECT ` + prefixed("e.", entryColumns) + `, s.total AS search_total, s.more AS search_more,
		coalesce(a.kinds, '{}') AS address_kinds, coalesce(a.labels, '{}') AS address_labels,
		coalesce(a.vals, '{}') AS address_values
	FROM directory_search_page($1, $2, $3, $4, $5, $6, $7, $8, $9) s
	CROSS JOIN LATERAL unnest(s.ids) WITH ORDINALITY AS u (id, ord)
	JOIN directory_entries e ON e.organisation_id = $1 AND e.id = u.id
	LEFT JOIN LATERAL (
		SELECT array_agg(d.kind ORDER BY d.position) AS kinds, array_agg(d.label ORDER BY d.position) AS labels,
			array_agg(d.value ORDER BY d.position) AS vals
		FROM directory_addresses d WHERE d.entry_id = e.id AND d.organisation_id = $1) a ON true
	ORDER BY u.ord`

// searchStmts holds searchSQL prepared, one per database handle (in
// production, one), shared by every Store on it: a Store made per request
// must not prepare a statement of its own that nothing closes.
var searchStmts sync.Map // *sqlx.DB -> *sqlx.Stmt

// prepareSearch returns searchSQL prepared on s's database. Its plan does
// not depend on the arguments (directory_search_page plans the search
// itself), so planning it once per connection saves that on every search.
func (s *Store) prepareSearch(ctx context.Context) (*sqlx.Stmt, error) {
	if st, ok := searchStmts.Load(s.db); ok {
		return st.(*sqlx.Stmt), nil
	}
	stmt, err := s.db.PreparexContext(ctx, searchSQL)
	if err != nil {
		return nil, fmt.Errorf("directory: prepare search: %w", err)
	}
	if st, loaded := searchStmts.LoadOrStore(s.db, stmt); loaded {
		_ = stmt.Close() // another search prepared it first
		return st.(*sqlx.Stmt), nil
	}
	return stmt, nil
}

func ptrTo[T any](v T) *T { return &v }

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

func prefixed(p, cols string) string {
	fs := strings.Split(cols, ",")
	for i, f := range fs {
		fs[i] = p + strings.TrimSpace(f)
	}
	return strings.Join(fs, ", ")
}
