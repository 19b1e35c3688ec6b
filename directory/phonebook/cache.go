package phonebook

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/bifrost-video/bifrost/directory"
)

// Loader builds the book of one organisation.
type Loader func(ctx context.Context, orgID string) (*Book, error)

// Versioner returns a fingerprint of an organisation's directory that
// changes with it (directory.Store.Version), so that an unchanged directory
// is not loaded again.
type Versioner func(ctx context.Context, orgID string) (string, error)

// StoreLoader loads books through package directory's exported API: its
// version, the folders and every published entry.
func StoreLoader(st *directory.Store) Loader {
	return func(ctx context.Context, orgID string) (*Book, error) {
		version, err := st.Version(ctx, orgID)
		if err != nil {
			return nil, err
		}
		fs, err := st.Folders(ctx, orgID)
		if err != nil {
			return nil, err
		}
		es, err := st.PublishedAll(ctx, orgID)
		if err != nil {
			return nil, err
		}
		b := NewBook(fs, es)
		b.version = version
		return b, nil
	}
}

// Cache keeps each organisation's Book in memory. The first request of an
// organisation loads it; after MaxAge the next request starts a reload in
// the background and keeps answering from the old book until it is done, so
// no request waits for a reload. A changed directory is therefore visible
// to endpoints within MaxAge (plus the load time).
type Cache struct {
	load    Loader
	version Versioner // nil: always reload
	maxAge  time.Duration
	now     func() time.Time
	log     *slog.Logger

	mu     sync.Mutex
	books  map[string]*cached
	closed bool
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

type cached struct {
	book     *Book
	loadedAt time.Time
	loading  chan struct{} // closed when the running load ends; nil when none
	err      error         // of the last first load
}

// NewCache returns a cache that loads books with load and reloads them when
// older than maxAge (0: 30 s) and changed according to version (nil: always
// reload). now is the clock (nil: time.Now).
func NewCache(load Loader, version Versioner, maxAge time.Duration, now func() time.Time, log *slog.Logger) *Cache {
	if maxAge <= 0 {
		maxAge = 30 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Cache{load: load, version: version, maxAge: maxAge, now: now, log: log, books: map[string]*cached{}, ctx: ctx, cancel: cancel}
}

// Book returns the organisation's book, loading it on first use.
func (c *Cache) Book(ctx context.Context, orgID string) (*Book, error) {
	for {
		c.mu.Lock()
		e := c.books[orgID]
		if e == nil {
			e = &cached{}
			c.books[orgID] = e
		}
		if e.book != nil {
			if e.loading == nil && c.now().Sub(e.loadedAt) >= c.maxAge && !c.closed {
				c.startLoad(orgID, e)
			}
			b := e.book
			c.mu.Unlock()
			return b, nil
		}
		if e.loading == nil {
			if c.closed {
				c.mu.Unlock()
				return nil, context.Canceled
			}
			c.startLoad(orgID, e)
		}
		wait := e.loading
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		c.mu.Lock()
		b, err := e.book, e.err
		c.mu.Unlock()
		if b != nil {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Invalidate makes the next request of the organisation reload its book (in
// the background when one is loaded already).
func (c *Cache) Invalidate(orgID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.books[orgID]; e != nil {
		e.loadedAt = time.Time{}
	}
}

// startLoad runs a load of orgID; c.mu is held.
func (c *Cache) startLoad(orgID string, e *cached) {
	done := make(chan struct{})
	e.loading = done
	started := c.now()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Minute)
		var b *Book
		var err error
		unchanged := false
		if old := c.current(orgID); old != nil && c.version != nil && old.version != "" {
			var v string
			if v, err = c.version(ctx, orgID); err == nil && v == old.version {
				b, unchanged = old, true
			}
		}
		if !unchanged && err == nil {
			b, err = c.load(ctx, orgID)
		}
		cancel()
		c.mu.Lock()
		if unchanged {
			e.loadedAt, e.loading = started, nil
			close(done)
			c.mu.Unlock()
			return
		}
		if err == nil {
			if e.book != nil {
				// A shallow copy without its own prev: books are read
				// concurrently and never changed.
				old := *e.book
				old.prev = nil
				b.prev = &old
			}
			e.book, e.loadedAt, e.err = b, started, nil
		} else {
			e.err = err
			if e.book != nil {
				e.loadedAt = started // retry after maxAge, keep answering
			}
		}
		e.loading = nil
		close(done)
		c.mu.Unlock()
		if err != nil {
			c.log.Error("phonebook: loading the directory failed", "organisation_id", orgID, "err", err)
		} else {
			c.log.Debug("phonebook: directory loaded", "organisation_id", orgID, "contacts", b.Len(), "took", c.now().Sub(started))
		}
	}()
}

// current returns the organisation's loaded book, or nil.
func (c *Cache) current(orgID string) *Book {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.books[orgID]; e != nil {
		return e.book
	}
	return nil
}

// VersionOf is the Versioner of a directory store.
func VersionOf(st *directory.Store) Versioner { return st.Version }

// Close stops running loads and waits for them. It is idempotent.
func (c *Cache) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	return nil
}
