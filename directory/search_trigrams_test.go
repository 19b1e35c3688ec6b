package directory

import (
	"slices"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// commonTrigramsDB fills an organisation with n generated entries whose
// addresses nearly all share one SIP domain and one number prefix (the shape
// that makes a few trigrams common), names in several scripts, and one entry
// in another organisation that matches every search below. It refreshes the
// organisation's common trigrams and returns the database and organisation.
func commonTrigramsDB(t *testing.T, n int) (*sqlx.DB, string) {
	t.Helper()
	db := pgtest.New(t)
	org := newOrg(t, db, "Nordfjord")
	other := newOrg(t, db, "Other")
	firsts, lasts := "{"+strings.Join(quoteAll(benchFirst), ",")+"}", "{"+strings.Join(quoteAll(benchLast), ",")+"}"
	if _, err := db.Exec(`
		INSERT INTO directory_entries (organisation_id, display_name, published, search_addresses)
		SELECT $1, ($2::text[])[1 + i % 12] || ' ' || ($3::text[])[1 + (i / 12) % 13] || ' ' || lpad(i::text, 5, '0'),
			i % 10 <> 3,
			'u' || lpad(i::text, 5, '0') || CASE WHEN i % 50 = 7 THEN '@elsewhere.example' ELSE '@video.nordfjord.example' END
				|| ' +472100' || lpad(i::text, 5, '0')
		FROM generate_series(0, $4 - 1) i`, org, firsts, lasts, n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO directory_entries (organisation_id, display_name, search_addresses)
		VALUES ($1, 'Aaron 张 Østby Nilsen Hansen Thomas O''Brien 0999 video', 'u00042@video.nordfjord.example +4721000042 u00777@elsewhere.example')`, other); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`ANALYZE directory_entries`); err != nil {
		t.Fatal(err)
	}
	if err := NewStore(db, nil).RebuildSearchHints(ctxT(t), org); err != nil {
		t.Fatal(err)
	}
	return db, org
}

// TestSearchCommonTrigrams: over a directory where a SIP domain and a number
// prefix are in nearly every entry, a search that leaves the common trigrams
// out of its index lookup (migration 0014) returns exactly what it returns
// without the list of common trigrams (every trigram looked up, migration
// 0012's plain LIKE) and what a check of every entry computes: the same
// entries in the same order, page by page, with the same totals, also
// limited to published entries and to the root folder.
func TestSearchCommonTrigrams(t *testing.T) {
	t.Parallel()
	db, org := commonTrigramsDB(t, 3000)
	ctx := ctxT(t)
	s := NewStore(db, nil)

	texts := []string{
		"u00042@video", "U00777@ELSEWHERE", "@vid", "video", "nordfjord.example", "0042", "+47 21 00 00 42",
		"+4721000", "kari nilsen 00", "Thomas O'Brien 0", "Øvrebø 01", "ostby u0", "hansen 0999", "张", "张 wei",
		"n", "ø", "zz", "zzzz", "nilsen 02999", "u0299", "00999 u00999@video.nordfjord.example",
	}
	// The path under test must be taken: these texts leave common trigrams
	// out of the lookup (a strpos check of the whole text on the rows found).
	for _, text := range []string{"u00042@video", "Thomas O'Brien 0", "hansen 0999"} {
		var cond string
		if err := db.Get(&cond, `SELECT directory_search_like(shares, directory_fold($2))
			FROM directory_search_common_trigrams WHERE organisation_id = $1`, org, text); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(cond, "strpos") {
			t.Errorf("%q: condition %s, want the rare trigrams looked up and the text checked (strpos)", text, cond)
		}
	}

	type page struct {
		ids   []string
		total int
		more  bool
	}
	search := func(q Query) []page {
		t.Helper()
		var out []page
		for off := 0; off < 63; off += 7 {
			q.Limit, q.Offset = 7, off
			p, err := s.Search(ctx, org, q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range p.Entries {
				ids = append(ids, e.ID)
			}
			out = append(out, page{ids: ids, total: p.Total, more: p.More})
			if len(p.Entries) < 7 {
				break
			}
		}
		return out
	}
	// want checks every entry: its folded search text holds the folded text
	// (or, for a phone number, its digits), in name order.
	want := func(q Query) []string {
		t.Helper()
		var ids []string
		if err := db.Select(&ids, `SELECT id FROM directory_entries e WHERE organisation_id = $1
			AND (strpos(search_text, directory_fold(btrim($2))) > 0 OR $3 <> '' AND strpos(search_text, $3) > 0)
			AND (NOT $4 OR published) AND (NOT $5 OR folder_id IS NULL)
			ORDER BY sort_name, id`, org, q.Text, digitsOf(strings.TrimSpace(q.Text)), q.PublishedOnly, q.InRoot); err != nil {
			t.Fatal(err)
		}
		return ids
	}

	var queries []Query
	for _, text := range texts {
		for _, countLimit := range []int{0, 25, -1} {
			queries = append(queries, Query{Text: text, CountLimit: countLimit},
				Query{Text: text, CountLimit: countLimit, PublishedOnly: true, InRoot: true})
		}
	}
	with := make([][]page, len(queries))
	for i, q := range queries {
		with[i] = search(q)
	}
	if _, err := db.Exec(`DELETE FROM directory_search_common_trigrams WHERE organisation_id = $1`, org); err != nil {
		t.Fatal(err)
	}
	for i, q := range queries {
		without := search(q)
		if !slices.EqualFunc(with[i], without, func(a, b page) bool {
			return slices.Equal(a.ids, b.ids) && a.total == b.total && a.more == b.more
		}) {
			t.Errorf("Search(%+v):\n with the common trigrams left out %v\n with every trigram looked up     %v", q, with[i], without)
		}
		exp := want(q)
		var got []string
		for _, p := range with[i] {
			got = append(got, p.ids...)
		}
		if len(exp) > len(got) && len(got) == 63 {
			exp = exp[:len(got)] // the pages read stop at 63
		}
		if !slices.Equal(got, exp) {
			t.Errorf("Search(%+v): %d entries, want %d (the entries holding the text, in name order)", q, len(got), len(exp))
		}
		wantTotal := len(want(q))
		if q.CountLimit >= 0 {
			limit := q.CountLimit
			if limit == 0 {
				limit = 1000
			}
			wantTotal = min(wantTotal, limit)
		}
		if with[i][0].total != wantTotal {
			t.Errorf("Search(%+v): total %d, want %d", q, with[i][0].total, wantTotal)
		}
	}
}

// TestSearchStaleCommonTrigrams: a list of common trigrams that no longer
// fits the directory (every entry renamed and moved to another SIP domain
// after the refresh) makes no search find anything else: the results are
// those of a check of every entry, whatever the list says.
func TestSearchStaleCommonTrigrams(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := ctxT(t)
	s := NewStore(db, nil)
	org := newOrg(t, db, "Nordfjord")
	if _, err := db.Exec(`
		INSERT INTO directory_entries (organisation_id, display_name, search_addresses)
		SELECT $1, 'Kari Nilsen ' || lpad(i::text, 4, '0'), 'u' || lpad(i::text, 4, '0') || '@video.example'
		FROM generate_series(0, 399) i`, org); err != nil {
		t.Fatal(err)
	}
	if err := s.RefreshSearchTrigrams(ctx, org); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE directory_entries SET display_name = 'Per Hansen ' || right(display_name, 4),
		search_addresses = replace(search_addresses, '@video.example', '@zulu.example') WHERE organisation_id = $1`, org); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"u0042@zulu", "u0042@video", "video", "zulu.example", "hansen 0042", "kari", "nilsen 01", "per hansen 03", "0399"} {
		var want []string
		if err := db.Select(&want, `SELECT display_name FROM directory_entries WHERE organisation_id = $1
			AND strpos(search_text, directory_fold($2)) > 0 ORDER BY sort_name, id`, org, text); err != nil {
			t.Fatal(err)
		}
		p, err := s.Search(ctx, org, Query{Text: text, CountLimit: -1, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(p.Entries); !slices.Equal(got, want) || p.Total != len(want) {
			t.Errorf("Search(%q) with a stale list: %d entries (total %d), want %d", text, len(got), p.Total, len(want))
		}
	}
}
