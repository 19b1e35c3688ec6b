package phonebook

import (
	"net/http"
	"strings"
)

const xmlContentType = "text/xml; charset=utf-8"

// maxDirectoryEntries bounds a Yealink directory answer: Yealink's XML
// browser objects are small (PROTOCOLS.md §4).
const maxDirectoryEntries = 50

// serveYealinkBook answers the whole phonebook as YealinkIPPhoneBook: one Menu
// per folder holding contacts, in tree order, one Unit per contact with the
// video address and the office and mobile numbers (PROTOCOLS.md §4).
func (s *Server) serveYealinkBook(w http.ResponseWriter, _ *http.Request, c *call) {
	buf := s.buffer()
	defer s.release(buf)
	x := xw{buf}
	x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<YealinkIPPhoneBook>\n  ")
	x.text("Title", c.view.Title)
	x.raw("\n")
	n := 0
	groups, total := c.view.Groups(MaxBulkContacts)
	for _, g := range groups {
		x.raw("  <Menu")
		x.attr("Name", g.Path)
		x.raw(">\n")
		for _, ct := range g.Contacts {
			x.raw("    <Unit")
			x.attr("Name", ct.Name)
			x.attr("Phone1", dialable(ct))
			x.attr("Phone2", ct.Phone)
			x.attr("Phone3", ct.Mobile)
			x.attr("default_photo", "Resource:")
			x.raw("/>\n")
			n++
		}
		x.raw("  </Menu>\n")
	}
	x.raw("</YealinkIPPhoneBook>\n")
	c.rec.Operation, c.rec.ResultCount, c.rec.Total = "phonebook", n, total
	if n < total {
		s.deps.Logger.Warn("phonebook: Yealink phonebook answered with the first contacts only (it has no paging; phones search with "+YealinkDirPath+"?q=)",
			"organisation_id", c.rec.OrganisationID, "client_ip", c.rec.ClientIP, "sent", n, "contacts", total)
	}
	write(w, http.StatusOK, xmlContentType, buf.Bytes())
}

// serveYealinkDirectory answers a search (?q=, as the phone fills #SEARCH)
// as YealinkIPPhoneDirectory; without q it lists the first contacts.
func (s *Server) serveYealinkDirectory(w http.ResponseWriter, r *http.Request, c *call) {
	q := field(r.URL.Query().Get("q"))
	var res Result
	if q == "" {
		cs, total := c.view.ContactsPage(0, maxDirectoryEntries)
		res = Result{Items: contactsOnly(cs, maxDirectoryEntries), Total: total}
	} else {
		res = c.view.Search(Query{Text: q, Limit: maxDirectoryEntries})
	}
	buf := s.buffer()
	defer s.release(buf)
	x := xw{buf}
	x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<YealinkIPPhoneDirectory>\n  ")
	x.text("Title", c.view.Title)
	x.raw("\n")
	n := 0
	for _, it := range res.Items {
		ct := it.Contact
		if ct == nil {
			continue
		}
		n++
		x.raw("  <DirectoryEntry>\n    ")
		x.text("Name", ct.Name)
		x.raw("\n")
		for _, t := range [][2]string{{"Video", dialable(ct)}, {"Office", ct.Phone}, {"Mobile", ct.Mobile}} {
			if t[1] == "" {
				continue
			}
			x.raw("    <Telephone")
			x.attr("label", t[0])
			x.raw(">")
			escape(buf, t[1], false)
			x.raw("</Telephone>\n")
		}
		x.raw("  </DirectoryEntry>\n")
	}
	x.raw("</YealinkIPPhoneDirectory>\n")
	c.rec.Operation, c.rec.SearchString, c.rec.ResultCount, c.rec.Total = "search", q, n, res.Total
	if q == "" {
		c.rec.Operation = "list"
	}
	write(w, http.StatusOK, xmlContentType, buf.Bytes())
}

// dialable returns what a phone dials to reach c by video: its SIP URI with
// the scheme, else its first route.
func dialable(c *Contact) string {
	if u := c.SIPURI(); u != "" {
		return u
	}
	if len(c.Routes) > 0 {
		if c.Routes[0].Protocol == "H323" && !strings.HasPrefix(c.Routes[0].DialString, "h323:") {
			return "h323:" + c.Routes[0].DialString
		}
		return c.Routes[0].DialString
	}
	return ""
}

func contactsOnly(cs []*Contact, limit int) []Item {
	out := make([]Item, 0, min(len(cs), limit))
	for _, c := range cs[:min(len(cs), limit)] {
		out = append(out, Item{Contact: c})
	}
	return out
}
