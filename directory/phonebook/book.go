package phonebook

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/bifrost-video/bifrost/directory"
)

// RootID is the Id of a phonebook's root folder. An empty SearchPath means
// the root as well.
const RootID = "c_root"

// MaxLimit is the largest page any protocol returns (PROTOCOLS.md §1.7).
const MaxLimit = 1000

// DefaultLimit is the page size when a request names none.
const DefaultLimit = 50

// MaxBulkContacts bounds the answers that have no paging: TMS GetPhonebooks
// (PROTOCOLS.md §1.8) and Yealink's whole YealinkIPPhoneBook (§4). Beyond
// it they hold the first MaxBulkContacts contacts in order, and the server
// logs that it cut the answer: endpoints browse and search with Search
// (TMS) or the ?q= directory (Yealink), which page. A cut GetPhonebooks
// says so (IsLast false, NoOfEntries counting every contact) and gives the
// next contacts when asked with StartFromId (View.ContactPosition). At
// 10 000 a TMS answer is about 5 MB.
const MaxBulkContacts = 10000

// Folder is a folder of a Book.
type Folder struct {
	ID   string // c_<directory folder ID>; RootID for the root
	Name string
	// Path is the folder path below the directory's root ("People/Oslo").
	Path string

	lower    string
	idx      int32 // index in Book.folders
	parent   int
	folders  []int // sub-folders with contacts below them, in order
	contacts []int // contacts directly in this folder, in order
	level    []int // what a browse lists: folders (>= 0), then contacts (^i)
	pre, end int   // pre-order number; descendants have pre in [pre, end)
	count    int   // contacts in the subtree
}

// Route is one way to call a contact: PROTOCOLS.md §1.5 rule 3.
type Route struct {
	Protocol   string // SIP, H323 or E164
	DialString string // without a scheme
}

// Contact is a published directory entry as every protocol shows it.
type Contact struct {
	ID      string // e_<directory entry ID>
	EntryID string
	Name    string
	Kind    directory.Kind
	Routes  []Route // callable addresses: SIP first, then H.323, then E.164
	// Phone and Mobile are informational numbers without spaces ("+4721991001").
	Phone, Mobile string

	lower  string
	entry  *directory.Entry // the directory entry, for LDAP's attributes
	idx    int32            // index in Book.contacts
	folder int              // index of its folder in Book.folders
	pre    int              // the folder's pre-order number
}

// SIPURI returns the contact's first SIP address with its scheme, or "".
func (c *Contact) SIPURI() string {
	for _, r := range c.Routes {
		if r.Protocol == "SIP" {
			return "sip:" + r.DialString
		}
	}
	return ""
}

// Book is an immutable snapshot of one organisation's published directory:
// the one query layer every phonebook protocol answers from. Folders come
// before contacts; each is sorted by the code points of the lower-case name
// (then by ID), the order endpoints page through (testdata README,
// "Ordering").
type Book struct {
	dirFolders []directory.Folder // as loaded, for LDAP's tree
	folders    []Folder           // [0] is the root
	contacts   []Contact          // all, in order
	byID       map[string]int
	// hay holds the lower-case names of contacts in order, each followed by
	// NUL; offs[i] is where contacts[i]'s name starts. A search finds a
	// string in it with one strings.Index scan instead of one per contact.
	hay  string
	offs []int32
	// pres[i] is contacts[i].pre, contiguous for scans.
	pres []int32
	// addrHay and addrOffs are hay and offs for the contacts' addresses in
	// their search form (see addressForms), for DirectoryEntries.
	addrHay  string
	addrOffs []int32
	// tri maps each 3-byte sequence of the lower-case names to the contacts
	// (ascending, so in order) whose name holds it: a search for 3 bytes or
	// more checks only the contacts of its rarest trigram.
	tri map[uint32][]int32
	// version is the directory's fingerprint when this book was loaded.
	version string
	// prev is the snapshot this one replaced, without its own prev: an Id
	// that vanished between two pages still sorts where it was.
	prev *Book
	// frags keeps the rendered TMS fragments of this book's items.
	frags *fragments
}

// item index encoding in byID: folders are >= 0, contacts are ^i (< 0).

// NewBook builds a book from the directory's folders and published entries
// (entries without a callable address are dropped). The book keeps fs and
// es: the caller must not change them afterwards.
func NewBook(fs []directory.Folder, es []directory.Entry) *Book {
	b := &Book{dirFolders: fs, byID: make(map[string]int, len(fs)+len(es)+1)}
	b.folders = append(b.folders, Folder{ID: RootID, parent: -1})
	byDir := make(map[string]int, len(fs))
	for _, f := range fs {
		byDir[f.ID] = len(b.folders)
		b.folders = append(b.folders, Folder{ID: "c_" + f.ID, Name: f.Name, lower: strings.ToLower(f.Name), parent: -1})
	}
	for i, f := range fs {
		fi := i + 1
		p := 0
		if f.ParentID != nil {
			if pi, ok := byDir[*f.ParentID]; ok {
				p = pi
			}
		}
		b.folders[fi].parent = p
	}
	for i := range es {
		e := &es[i]
		c := Contact{ID: "e_" + e.ID, EntryID: e.ID, Name: e.DisplayName, Kind: e.Kind, lower: strings.ToLower(e.DisplayName), entry: e}
		for _, k := range []directory.AddressKind{directory.AddressSIP, directory.AddressH323, directory.AddressE164} {
			for _, a := range e.Addresses {
				if a.Kind == k {
					c.Routes = append(c.Routes, route(a))
				}
			}
		}
		for _, a := range e.Addresses {
			if a.Kind != directory.AddressTel {
				continue
			}
			switch {
			case a.Label == "mobile" && c.Mobile == "":
				c.Mobile = Digits(a.Value)
			case a.Label != "mobile" && c.Phone == "":
				c.Phone = Digits(a.Value)
			}
		}
		if len(c.Routes) == 0 {
			continue
		}
		if e.FolderID != nil {
			c.folder = byDir[*e.FolderID] // 0 (root) when unknown
		}
		b.contacts = append(b.contacts, c)
	}
	slices.SortFunc(b.contacts, func(x, y Contact) int {
		return cmp.Or(strings.Compare(x.lower, y.lower), strings.Compare(x.ID, y.ID))
	})
	var hay strings.Builder
	b.offs = make([]int32, len(b.contacts)+1)
	for i := range b.contacts {
		c := &b.contacts[i]
		b.byID[c.ID] = ^i
		b.folders[c.folder].contacts = append(b.folders[c.folder].contacts, i)
		for f := c.folder; f >= 0; f = b.folders[f].parent {
			b.folders[f].count++
		}
		b.offs[i] = int32(hay.Len())
		hay.WriteString(c.lower)
		hay.WriteByte(0)
	}
	b.offs[len(b.contacts)] = int32(hay.Len())
	b.hay = hay.String()
	var addrs strings.Builder
	b.addrOffs = make([]int32, len(b.contacts)+1)
	for i := range b.contacts {
		b.addrOffs[i] = int32(addrs.Len())
		addressForms(&addrs, b.contacts[i].entry)
	}
	b.addrOffs[len(b.contacts)] = int32(addrs.Len())
	b.addrHay = addrs.String()
	for i := 1; i < len(b.folders); i++ {
		f := &b.folders[i]
		if f.count > 0 {
			b.folders[f.parent].folders = append(b.folders[f.parent].folders, i)
		}
	}
	for i := range b.folders {
		b.byID[b.folders[i].ID] = i
		slices.SortFunc(b.folders[i].folders, func(x, y int) int {
			return cmp.Or(strings.Compare(b.folders[x].lower, b.folders[y].lower), strings.Compare(b.folders[x].ID, b.folders[y].ID))
		})
	}
	// Pre-order numbers and paths.
	n := 0
	var walk func(i int, path string)
	walk = func(i int, path string) {
		f := &b.folders[i]
		f.pre, f.Path = n, path
		n++
		for _, c := range f.folders {
			p := b.folders[c].Name
			if path != "" {
				p = path + "/" + p
			}
			walk(c, p)
		}
		b.folders[i].end = n
	}
	walk(0, "")
	b.pres = make([]int32, len(b.contacts))
	for i := range b.contacts {
		b.contacts[i].pre = b.folders[b.contacts[i].folder].pre
		b.contacts[i].idx = int32(i)
		b.pres[i] = int32(b.contacts[i].pre)
	}
	b.frags = newFragments(len(b.contacts), len(b.folders))
	for i := range b.folders {
		f := &b.folders[i]
		f.idx = int32(i)
		f.level = make([]int, 0, len(f.folders)+len(f.contacts))
		f.level = append(f.level, f.folders...)
		for _, c := range f.contacts {
			f.level = append(f.level, ^c)
		}
	}
	b.tri = make(map[uint32][]int32, 1<<14)
	for i := range b.contacts {
		l := b.contacts[i].lower
		for j := 0; j+3 <= len(l); j++ {
			k := trigram(l[j:])
			if p := b.tri[k]; len(p) == 0 || p[len(p)-1] != int32(i) {
				b.tri[k] = append(p, int32(i))
			}
		}
	}
	return b
}

// intersect returns the elements of both ascending lists, appended to out.
func intersect(out, a, b []int32) []int32 {
	out = slices.Grow(out, min(len(a), len(b)))
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// intersectBufs holds the buffers matchEach narrows its candidates in.
var intersectBufs = sync.Pool{New: func() any { return new([2][]int32) }}

// putIntersectBufs returns buffers to intersectBufs unless one grew past
// what an ordinary search needs (a trigram as common as "e" in 100 000
// names), which would keep that much memory per pooled pair.
func putIntersectBufs(b *[2][]int32) {
	if cap(b[0]) <= 1<<17 && cap(b[1]) <= 1<<17 {
		intersectBufs.Put(b)
	}
}

func trigram(s string) uint32 { return uint32(s[0])<<16 | uint32(s[1])<<8 | uint32(s[2]) }

func route(a directory.Address) Route {
	switch a.Kind {
	case directory.AddressSIP:
		v := a.Value
		if len(v) > 4 && strings.EqualFold(v[:4], "sip:") {
			v = v[4:]
		} else if len(v) > 5 && strings.EqualFold(v[:5], "sips:") {
			v = v[5:]
		}
		return Route{Protocol: "SIP", DialString: v}
	case directory.AddressH323:
		return Route{Protocol: "H323", DialString: strings.TrimPrefix(a.Value, "h323:")}
	default:
		return Route{Protocol: "E164", DialString: Digits(a.Value)}
	}
}

// Digits returns a phone number without spaces and punctuation, keeping a
// leading +: "+47 21 99 10 01" → "+4721991001".
func Digits(s string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		if r >= '0' && r <= '9' || r == '+' && i == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Len returns the number of published contacts in the book.
func (b *Book) Len() int { return len(b.contacts) }

// View is the part of a book a token sees: the subtree below one folder.
type View struct {
	b    *Book
	root int // -1: the token's folder does not exist
	// Title names the phonebook (the root folder's name in answers).
	Title string
}

// View returns the subtree of b at folderPath ("" the whole book) titled
// title. A path that names no folder (with contacts) gives an empty view.
func (b *Book) View(folderPath, title string) View {
	v := View{b: b, root: 0, Title: title}
	folderPath = strings.Trim(folderPath, "/")
	if folderPath == "" {
		return v
	}
	v.root = -1
	for i := range b.folders {
		if b.folders[i].Path == folderPath && i != 0 {
			v.root = i
			break
		}
	}
	return v
}

// Query is a browse or a search, with paging.
type Query struct {
	// FolderID is the folder to browse or search below; "" or RootID: the
	// view's root.
	FolderID string
	// Text, when not empty, searches every contact below the folder whose name
	// contains it (case-insensitive unless CaseSensitive); empty browses the
	// folder's direct children, folders first (PROTOCOLS.md §1.6).
	Text          string
	CaseSensitive bool
	// Limit is the page size: 0 means DefaultLimit, at most MaxLimit.
	Limit int
	// StartFromID continues after that item (at it when Inclusive); EndAtID
	// returns the page that ends before it (PROTOCOLS.md §1.7).
	StartFromID, EndAtID string
	Inclusive            bool
}

// Item is a folder or a contact of a result.
type Item struct {
	Folder  *Folder
	Contact *Contact
}

// ID returns the item's Id.
func (it Item) ID() string {
	if it.Folder != nil {
		return it.Folder.ID
	}
	return it.Contact.ID
}

// Result is one page of a query's answer.
type Result struct {
	// Folder is the folder browsed or searched (nil when it does not exist);
	// its Name is the view's Title at the root.
	FolderName, FolderID string
	FolderExists         bool
	FolderPath           string
	Items                []Item
	// Total is the number of items matching at that level, independent of
	// the page (NoOfEntries).
	Total           int
	IsFirst, IsLast bool

	book *Book // whose items these are
}

// folder resolves a folder Id inside the view.
func (v View) folder(id string) (int, bool) {
	if v.root < 0 {
		return 0, false
	}
	if id == "" || id == RootID {
		return v.root, true
	}
	i, ok := v.b.byID[id]
	if !ok || i < 0 {
		return 0, false
	}
	r := &v.b.folders[v.root]
	if f := &v.b.folders[i]; f.pre < r.pre || f.pre >= r.end || f.count == 0 {
		return 0, false
	}
	return i, true
}

// Path returns the folder path of a folder Id relative to the directory root,
// for the request log ("" for the root or an unknown Id).
func (v View) Path(id string) string {
	if f, ok := v.folder(id); ok {
		return v.b.folders[f].Path
	}
	return ""
}

// Search answers q.
func (v View) Search(q Query) Result {
	fi, ok := v.folder(q.FolderID)
	if !ok {
		return Result{FolderID: q.FolderID, IsFirst: true, IsLast: true}
	}
	f := &v.b.folders[fi]
	res := Result{FolderID: f.ID, FolderName: f.Name, FolderPath: f.Path, FolderExists: true, book: v.b}
	if fi == v.root {
		res.FolderID, res.FolderName = RootID, v.Title
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)

	// The level's items as keys: folders (>= 0) then contacts (^i).
	var list []int
	text := strings.TrimSpace(strings.ReplaceAll(q.Text, "\x00", ""))
	if text != "" && q.EndAtID == "" {
		if r, ok := v.searchPage(res, f, text, q, limit); ok {
			return r
		}
	}
	if text == "" {
		list = f.level
	} else {
		list = v.b.match(text, q.CaseSensitive, f.pre, f.end)
	}
	res.Total = len(list)
	var start, end int
	switch {
	case q.StartFromID != "":
		p, exact := v.b.position(list, q.StartFromID)
		start = p
		if exact && !q.Inclusive {
			start++
		}
		end = min(start+limit, len(list))
	case q.EndAtID != "":
		p, exact := v.b.position(list, q.EndAtID)
		end = p
		if exact && q.Inclusive {
			end++
		}
		start = max(0, end-limit)
	default:
		end = min(limit, len(list))
	}
	start = min(start, len(list))
	end = max(end, start)
	res.IsFirst, res.IsLast = start == 0, end >= len(list)
	res.Items = make([]Item, 0, end-start)
	for _, k := range list[start:end] {
		res.Items = append(res.Items, v.b.item(k))
	}
	return res
}

// searchPage answers a search paging forwards without listing its matches:
// it counts them and keeps the page's. It gives up (ok false) on a
// StartFromId of an earlier book, whose place only its sort key tells.
func (v View) searchPage(res Result, f *Folder, text string, q Query, limit int) (Result, bool) {
	from := -1 // the page starts at the first match from this contact on
	if q.StartFromID != "" {
		k, ok := v.b.byID[q.StartFromID]
		if !ok {
			return res, false
		}
		if k < 0 {
			from = ^k // (a folder's Id sorts before every contact)
		}
	}
	n, start := 0, -1 // matches so far; the page's first
	res.Items = make([]Item, 0, min(limit, 64))
	v.b.matchEach(text, q.CaseSensitive, f.pre, f.end, func(i int) {
		if start < 0 {
			if i < from || i == from && !q.Inclusive {
				n++
				return
			}
			start = n
		}
		if len(res.Items) < limit {
			res.Items = append(res.Items, Item{Contact: &v.b.contacts[i]})
		}
		n++
	})
	if start < 0 {
		start = n
	}
	res.Total = n
	res.IsFirst, res.IsLast = start == 0, start+len(res.Items) >= n
	return res, true
}

// Contacts returns every contact of the view in order.
func (v View) Contacts() []*Contact {
	cs, _ := v.ContactsPage(0, math.MaxInt)
	return cs
}

// ContactsPage returns at most n of the view's contacts in order, from the
// from-th on, and how many contacts the view holds. It looks at no contact
// past the page: a whole book's view indexes them directly, a folder's
// view scans the contacts' folder numbers (contiguous) up to the page's end.
func (v View) ContactsPage(from, n int) ([]*Contact, int) {
	if v.root < 0 {
		return nil, 0
	}
	r := &v.b.folders[v.root]
	from = max(from, 0)
	n = max(min(n, r.count-from), 0)
	out := make([]*Contact, 0, n)
	if n == 0 {
		return out, r.count
	}
	if v.root == 0 {
		for i := from; i < from+n; i++ {
			out = append(out, &v.b.contacts[i])
		}
		return out, r.count
	}
	k := 0 // contacts of the view passed so far
	for i, p := range v.b.pres {
		if int(p) < r.pre || int(p) >= r.end {
			continue
		}
		if k >= from {
			out = append(out, &v.b.contacts[i])
			if len(out) == n {
				break
			}
		}
		k++
	}
	return out, r.count
}

// ContactPosition returns where the contacts of the view after the one of
// Id id start in ContactsPage's order (at it when inclusive): how GetPhonebooks
// continues after the last entry an endpoint received (PROTOCOLS.md §1.7's
// StartFromId). A contact outside the view, or one of the previous book
// (it vanished between two pages), counts from where it sorts; a folder's
// Id from the start; an Id neither book knows from the end.
func (v View) ContactPosition(id string, inclusive bool) int {
	if v.root < 0 {
		return 0
	}
	r := &v.b.folders[v.root]
	i, exact := 0, false // contacts[:i] sort before id
	if k, ok := v.b.byID[id]; ok {
		if k >= 0 {
			return 0
		}
		i, exact = ^k, true
	} else if k, ok := v.b.prev.lookup(id); ok && k < 0 {
		key := v.b.prev.key(k)
		i, _ = slices.BinarySearchFunc(v.b.contacts, key, func(c Contact, t sortKey) int {
			return sortKey{contact: true, lower: c.lower, id: c.ID}.compare(t)
		})
	} else if ok {
		return 0
	} else {
		return r.count
	}
	if exact && !inclusive {
		i++ // past the contact itself (outside the view, past nothing of it)
	}
	if v.root == 0 {
		return i
	}
	n := 0
	for _, p := range v.b.pres[:i] {
		if int(p) >= r.pre && int(p) < r.end {
			n++
		}
	}
	return n
}

// Group is the contacts directly in one folder.
type Group struct {
	// Path is the folder's path below the view's root, with " / " between
	// names; the view's Title for its root.
	Path     string
	Contacts []*Contact
}

// Groups returns the view's folders that hold contacts, in tree order
// (pre-order, siblings by name), each with its contacts, up to limit
// contacts in all (the last group cut short), and how many contacts the
// view holds.
func (v View) Groups(limit int) ([]Group, int) {
	if v.root < 0 {
		return nil, 0
	}
	var out []Group
	r := &v.b.folders[v.root]
	left := max(limit, 0)
	var walk func(i int, path string)
	walk = func(i int, path string) {
		f := &v.b.folders[i]
		if left == 0 {
			return
		}
		if len(f.contacts) > 0 {
			cs := f.contacts[:min(len(f.contacts), left)]
			left -= len(cs)
			g := Group{Path: path, Contacts: make([]*Contact, len(cs))}
			if i == v.root {
				g.Path = v.Title
			}
			for j, c := range cs {
				g.Contacts[j] = &v.b.contacts[c]
			}
			out = append(out, g)
		}
		for _, c := range f.folders {
			p := v.b.folders[c].Name
			if i != v.root {
				p = path + " / " + p
			}
			walk(c, p)
		}
	}
	walk(v.root, r.Name)
	return out, r.count
}

func (b *Book) item(k int) Item {
	if k >= 0 {
		return Item{Folder: &b.folders[k]}
	}
	return Item{Contact: &b.contacts[^k]}
}

// match returns the contacts (as ^i) whose folder's pre-order number is in
// [lo, hi) and whose name contains text, in order.
func (b *Book) match(text string, caseSensitive bool, lo, hi int) []int {
	var out []int
	b.matchEach(text, caseSensitive, lo, hi, func(i int) { out = append(out, ^i) })
	return out
}

// matchEach calls yield with the index of each contact match would return,
// in order.
func (b *Book) matchEach(text string, caseSensitive bool, lo, hi int, yield func(i int)) {
	// Every folder's pre-order number is below len(b.folders): a search of
	// the whole book need not look at a contact's folder.
	whole := lo <= 0 && hi >= len(b.folders)
	in := func(i int) bool {
		if whole {
			return true
		}
		p := int(b.pres[i])
		return p >= lo && p < hi
	}
	if caseSensitive {
		for i := range b.contacts {
			if in(i) && strings.Contains(b.contacts[i].Name, text) {
				yield(i)
			}
		}
		return
	}
	needle := strings.ToLower(text)
	if len(needle) >= 3 && b.tri != nil {
		var listsBuf [16][]int32
		lists := listsBuf[:0]
		for j := 0; j+3 <= len(needle); j++ {
			p := b.tri[trigram(needle[j:])]
			if len(p) == 0 {
				return
			}
			lists = append(lists, p)
		}
		slices.SortFunc(lists, func(x, y []int32) int { return len(x) - len(y) })
		// Candidates: the rarest trigram's contacts, narrowed by the next
		// rarest ones while that still pays.
		// The narrowed lists go to two pooled buffers in turn: a search
		// leaves no garbage behind.
		cand := lists[0]
		scratch := intersectBufs.Get().(*[2][]int32)
		defer putIntersectBufs(scratch)
		for k, l := range lists[1:min(len(lists), 4)] {
			if len(cand) <= 64 {
				break
			}
			cand = intersect(scratch[k%2][:0], cand, l)
			scratch[k%2] = cand
		}
		// The names are checked in hay, where they lie next to each other,
		// rather than through each contact.
		for _, i := range cand {
			if strings.Contains(b.hay[b.offs[i]:b.offs[i+1]-1], needle) && in(int(i)) {
				yield(int(i))
			}
		}
		return
	}
	for at := 0; at < len(b.hay); {
		j := strings.Index(b.hay[at:], needle)
		if j < 0 {
			break
		}
		pos := int32(at + j)
		// The contact whose name holds pos: the last offset <= pos.
		i, found := slices.BinarySearch(b.offs, pos)
		if !found {
			i--
		}
		if i >= len(b.contacts) {
			break
		}
		if in(i) {
			yield(i)
		}
		at = int(b.offs[i+1]) // next name
	}
}

// position returns where id sorts in list (a sorted level) and whether it is
// there. An id the book does not know sorts at the end.
func (b *Book) position(list []int, id string) (int, bool) {
	var key sortKey
	if k, ok := b.byID[id]; ok {
		key = b.key(k)
	} else if k, ok := b.prev.lookup(id); ok {
		key = b.prev.key(k)
	} else {
		return len(list), false
	}
	p, found := slices.BinarySearchFunc(list, key, func(e int, t sortKey) int { return b.key(e).compare(t) })
	return p, found
}

func (b *Book) lookup(id string) (int, bool) {
	if b == nil {
		return 0, false
	}
	k, ok := b.byID[id]
	return k, ok
}

type sortKey struct {
	contact bool
	lower   string
	id      string
}

func (k sortKey) compare(o sortKey) int {
	if k.contact != o.contact {
		if k.contact {
			return 1
		}
		return -1
	}
	return cmp.Or(strings.Compare(k.lower, o.lower), strings.Compare(k.id, o.id))
}

func (b *Book) key(k int) sortKey {
	if k >= 0 {
		return sortKey{lower: b.folders[k].lower, id: b.folders[k].ID}
	}
	c := &b.contacts[^k]
	return sortKey{contact: true, lower: c.lower, id: c.ID}
}
