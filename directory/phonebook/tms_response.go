package phonebook

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

const soapHead = `<?xml version="1.0" encoding="utf-8"?>` +
	`<soap:Envelope xmlns:soap="` + SOAPEnvelopeNS + `" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">` +
	`<soap:Body>`

const soapTail = `</soap:Body></soap:Envelope>`

// xw writes XML by hand: the shapes are fixed and this is the hot path.
type xw struct{ b *bytes.Buffer }

func (w xw) raw(s string) { w.b.WriteString(s) }

// text writes an element with escaped text; empty text writes <name />.
// It writes the pieces one by one: a concatenation would allocate per
// element.
func (w xw) text(name, s string) {
	w.b.WriteByte('<')
	w.b.WriteString(name)
	if s == "" {
		w.b.WriteString(" />")
		return
	}
	w.b.WriteByte('>')
	escape(w.b, s, false)
	w.b.WriteString("</")
	w.b.WriteString(name)
	w.b.WriteByte('>')
}

// attr writes ` name="value"`.
func (w xw) attr(name, v string) {
	w.b.WriteByte(' ')
	w.b.WriteString(name)
	w.b.WriteString(`="`)
	escape(w.b, v, true)
	w.b.WriteByte('"')
}

// escape writes s as XML text (or an attribute value): &, <, > (and ") are
// escaped; characters XML 1.0 does not allow become U+FFFD.
func escape(b *bytes.Buffer, s string, attr bool) {
	last := 0
	for i, r := range s {
		var rep string
		switch {
		case r == '&':
			rep = "&amp;"
		case r == '<':
			rep = "&lt;"
		case r == '>':
			rep = "&gt;"
		case r == '"' && attr:
			rep = "&quot;"
		case r == '\t' || r == '\n' || r == '\r':
			if !attr {
				continue
			}
			rep = "&#" + strconv.Itoa(int(r)) + ";"
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF || (r == utf8.RuneError && isInvalid(s[i:])):
			rep = "\uFFFD"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(rep)
		_, n := utf8.DecodeRuneInString(s[i:])
		last = i + n
	}
	b.WriteString(s[last:])
}

func isInvalid(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return r == utf8.RuneError && n <= 1
}

func (w xw) boolean(name string, v bool) {
	w.b.WriteByte('<')
	w.b.WriteString(name)
	if v {
		w.b.WriteString(">true</")
	} else {
		w.b.WriteString(">false</")
	}
	w.b.WriteString(name)
	w.b.WriteByte('>')
}

func (w xw) int(name string, n int) {
	var d [20]byte
	w.b.WriteByte('<')
	w.b.WriteString(name)
	w.b.WriteByte('>')
	w.b.Write(strconv.AppendInt(d[:0], int64(n), 10))
	w.b.WriteString("</")
	w.b.WriteString(name)
	w.b.WriteByte('>')
}

// WriteSearchResponse renders a Search answer (PROTOCOLS.md §1.5).
func WriteSearchResponse(b *bytes.Buffer, res Result) {
	w := xw{b}
	w.raw(soapHead + `<SearchResponse xmlns="` + TMSNS + `"><SearchResult>`)
	w.text("Name", res.FolderName)
	w.text("Id", res.FolderID)
	for i, it := range res.Items {
		first, last := i == 0, i == len(res.Items)-1
		if f := it.Folder; f != nil {
			w.raw(res.book.catalogXML(f))
			w.boolean("IsFirst", first)
			w.boolean("IsLast", last)
			w.raw("</Catalog>")
			continue
		}
		writeEntry(w, res.book, it.Contact, first, last)
	}
	w.boolean("IsLast", res.IsLast)
	w.boolean("IsFirst", res.IsFirst)
	w.int("NoOfEntries", res.Total)
	w.boolean("FolderExists", res.FolderExists)
	w.raw(`</SearchResult></SearchResponse>` + soapTail)
}

// writeEntry renders one contact: Name, Id, Route*, IsLast, IsFirst, BaseDN,
// SystemType, in Cisco's order (PROTOCOLS.md §1.5 rule 2). What does not
// depend on the page (from <Entry> to the last </Route>) is rendered once
// per book (entryXML); b is nil for a contact of no book (fuzzing).
func writeEntry(w xw, b *Book, c *Contact, first, last bool) {
	w.raw(b.entryXML(c))
	w.boolean("IsLast", last)
	w.boolean("IsFirst", first)
	w.raw("<BaseDN /><SystemType /></Entry>")
}

// renderEntry writes what entryXML keeps of a contact.
func renderEntry(w xw, c *Contact) {
	w.raw("<Entry>")
	w.text("Name", c.Name)
	w.text("Id", c.ID)
	for _, r := range c.Routes {
		w.raw("<Route><CallType>Video</CallType>")
		w.text("Protocol", r.Protocol)
		w.raw("<Restrict>Norestrict</Restrict>")
		w.text("DialString", r.DialString)
		w.raw("<Description>")
		escape(w.b, r.DialString, false)
		switch r.Protocol {
		case "H323":
			w.raw(" (H.323)")
		case "E164":
			w.raw(" (E.164)")
		default:
			w.raw(" (SIP)")
		}
		w.raw("</Description><SystemType /></Route>")
	}
}

// renderCatalog writes what catalogXML keeps of a folder.
func renderCatalog(w xw, f *Folder) {
	w.raw("<Catalog>")
	w.text("Name", f.Name)
	w.text("Id", f.ID)
	w.int("NoOfEntries", len(f.folders)+len(f.contacts))
}

// WriteGetPhonebooksResponse renders a GetPhonebooks answer: one Catalog, the
// view, holding every contact flattened (PROTOCOLS.md §1.8). NoOfEntries, on
// the catalog and the result, counts the contacts.
func WriteGetPhonebooksResponse(b *bytes.Buffer, v View, cs []*Contact) {
	WriteGetPhonebooksPage(b, v, BulkPage{Contacts: cs, Total: len(cs), IsFirst: true, IsLast: true})
}

// BulkPage is one page of a view's contacts flattened, as GetPhonebooks
// answers them.
type BulkPage struct {
	Contacts []*Contact
	// Total is the number of contacts of the view, on every page.
	Total           int
	IsFirst, IsLast bool
}

// WriteGetPhonebooksPage renders a GetPhonebooks answer holding one page
// of the view's contacts: NoOfEntries counts them all, IsFirst and IsLast
// on the catalog and the result say where the page lies (PROTOCOLS.md §1.5:
// IsLast "true" when nothing follows), and each entry's IsFirst/IsLast
// marks the first and last of this answer, as in Search.
func WriteGetPhonebooksPage(b *bytes.Buffer, v View, p BulkPage) {
	cs := p.Contacts
	w := xw{b}
	w.raw(soapHead + `<GetPhonebooksResponse xmlns="` + TMSNS + `"><GetPhonebooksResult>`)
	w.text("Name", v.Title)
	w.text("Id", RootID)
	w.raw("<Catalog>")
	w.text("Name", v.Title)
	w.text("Id", RootID)
	for i, c := range cs {
		writeEntry(w, v.b, c, i == 0, i == len(cs)-1)
	}
	w.int("NoOfEntries", p.Total)
	w.boolean("IsFirst", p.IsFirst)
	w.boolean("IsLast", p.IsLast)
	w.raw("</Catalog>")
	w.boolean("IsLast", p.IsLast)
	w.boolean("IsFirst", p.IsFirst)
	w.int("NoOfEntries", p.Total)
	w.boolean("FolderExists", v.root >= 0)
	w.raw(`</GetPhonebooksResult></GetPhonebooksResponse>` + soapTail)
}

// WriteFault renders a SOAP 1.1 Fault; code is "Client" or "Server".
func WriteFault(b *bytes.Buffer, code, msg string) {
	w := xw{b}
	w.raw(soapHead + "<soap:Fault>")
	w.text("faultcode", "soap:"+code)
	w.text("faultstring", msg)
	w.raw("</soap:Fault>" + soapTail)
}
