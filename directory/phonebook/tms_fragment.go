package phonebook

import (
	"bytes"
	"sync/atomic"
)

// fragments are the parts of TMS answers that depend only on the book: per
// contact, its <Entry> up to the last </Route> (name, Id and routes,
// escaped); per folder, its <Catalog> up to NoOfEntries. Each is rendered on
// first use and kept for the book's life, so a directory version renders an
// entry once however often endpoints page through it (a whole book rendered
// up front would hold every entry's XML, most of it never asked for).
type fragments struct {
	contacts []atomic.Pointer[string]
	folders  []atomic.Pointer[string]
}

func newFragments(contacts, folders int) *fragments {
	return &fragments{contacts: make([]atomic.Pointer[string], contacts), folders: make([]atomic.Pointer[string], folders)}
}

// entryXML returns c's kept fragment (see fragments). Two requests that
// render it at the same time store equal strings; either wins.
func (b *Book) entryXML(c *Contact) string {
	if b == nil || b.frags == nil || c.idx < 0 || int(c.idx) >= len(b.frags.contacts) || &b.contacts[c.idx] != c {
		return render(func(w xw) { renderEntry(w, c) })
	}
	p := &b.frags.contacts[c.idx]
	if s := p.Load(); s != nil {
		return *s
	}
	s := render(func(w xw) { renderEntry(w, c) })
	p.Store(&s)
	return s
}

// catalogXML is entryXML for a folder.
func (b *Book) catalogXML(f *Folder) string {
	if b == nil || b.frags == nil || f.idx < 0 || int(f.idx) >= len(b.frags.folders) || &b.folders[f.idx] != f {
		return render(func(w xw) { renderCatalog(w, f) })
	}
	p := &b.frags.folders[f.idx]
	if s := p.Load(); s != nil {
		return *s
	}
	s := render(func(w xw) { renderCatalog(w, f) })
	p.Store(&s)
	return s
}

func render(f func(xw)) string {
	var buf bytes.Buffer
	f(xw{&buf})
	return buf.String()
}
