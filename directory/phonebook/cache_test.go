package phonebook

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/directory"
)

// fakeDirectory is a Loader and Versioner over an in-memory list of names.
type fakeDirectory struct {
	mu      sync.Mutex
	names   []string
	version int
	fail    error
	loads   atomic.Int32
}

func (d *fakeDirectory) load(ctx context.Context, org string) (*Book, error) {
	d.loads.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return nil, d.fail
	}
	var es []directory.Entry
	for i, n := range d.names {
		es = append(es, directory.Entry{ID: string(rune('a' + i)), DisplayName: n, Addresses: []directory.Address{{Kind: directory.AddressSIP, Value: n + "@x"}}})
	}
	b := NewBook(nil, es)
	b.version = itoa(d.version)
	return b, nil
}

func (d *fakeDirectory) versionOf(ctx context.Context, org string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return itoa(d.version), nil
}

func (d *fakeDirectory) set(names ...string) {
	d.mu.Lock()
	d.names = names
	d.version++
	d.mu.Unlock()
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestCacheReloadsOnlyAChangedDirectoryInTheBackground drives the cache with
// a fake directory and clock.
func TestCacheReloadsOnlyAChangedDirectoryInTheBackground(t *testing.T) {
	d := &fakeDirectory{}
	d.set("Anne")
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := NewCache(d.load, d.versionOf, time.Minute, clk.Now, nil)
	defer c.Close()
	ctx := context.Background()
	book := func() *Book {
		b, err := c.Book(ctx, "org")
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	first := book()
	if first.Len() != 1 || d.loads.Load() != 1 {
		t.Fatalf("first book: %d contacts, %d loads", first.Len(), d.loads.Load())
	}
	if book() != first || d.loads.Load() != 1 {
		t.Fatal("a fresh book was loaded again")
	}
	// Older than maxAge but unchanged: the version check saves the load.
	clk.Add(2 * time.Minute)
	book()
	waitFor(t, "the version check to end", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.books["org"].loading == nil })
	if d.loads.Load() != 1 || book() != first {
		t.Errorf("an unchanged directory was loaded again (%d loads)", d.loads.Load())
	}
	// Changed: the next request still gets the old book, a later one the new.
	d.set("Anne", "Bob")
	clk.Add(2 * time.Minute)
	if book() != first {
		t.Error("a request waited for the reload")
	}
	waitFor(t, "the reloaded book", func() bool { return book().Len() == 2 })
	// A failed reload keeps the old book.
	d.mu.Lock()
	d.fail = errors.New("database away")
	d.mu.Unlock()
	d.set("x")
	clk.Add(2 * time.Minute)
	book()
	waitFor(t, "the failed reload to end", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.books["org"].loading == nil })
	if book().Len() != 2 {
		t.Error("a failed reload dropped the book")
	}
	// A first load that fails is an error, and the next request retries.
	if _, err := c.Book(ctx, "other"); err == nil {
		t.Error("a failed first load gave a book")
	}
	d.mu.Lock()
	d.fail = nil
	d.mu.Unlock()
	if b, err := c.Book(ctx, "other"); err != nil || b.Len() != 1 {
		t.Errorf("retry after a failed first load: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}
