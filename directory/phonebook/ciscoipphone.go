package phonebook

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ciscoPageSize is the entries per CiscoIPPhoneDirectory page: public
// implementations page at 32 (PROTOCOLS.md §1.12).
const ciscoPageSize = 32

// serveCiscoDirectory answers Cisco IP phones (PROTOCOLS.md §1.12): without q
// a CiscoIPPhoneInput search form that sends q back here; with q the matching
// contacts as CiscoIPPhoneDirectory, 32 a page (page=N, from 1), with a Next
// soft key while more follow.
func (s *Server) serveCiscoDirectory(w http.ResponseWriter, r *http.Request, c *call) {
	buf := s.buffer()
	defer s.release(buf)
	x := xw{buf}
	self := s.selfURL(r)
	qv := r.URL.Query()
	if !qv.Has("q") {
		c.rec.Operation = "form"
		x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CiscoIPPhoneInput>\n  ")
		x.text("Title", c.view.Title)
		x.raw("\n  ")
		x.text("Prompt", "Enter a name")
		x.raw("\n  ")
		x.text("URL", self)
		x.raw("\n  <InputItem>\n    ")
		x.text("DisplayName", "Name")
		x.raw("\n    ")
		x.text("QueryStringParam", "q")
		x.raw("\n    <DefaultValue />\n    <InputFlags>A</InputFlags>\n  </InputItem>\n</CiscoIPPhoneInput>\n")
		write(w, http.StatusOK, xmlContentType, buf.Bytes())
		return
	}
	q := field(qv.Get("q"))
	page, _ := strconv.Atoi(qv.Get("page"))
	page = max(page, 1)
	var items []Item
	total := 0
	if q == "" {
		var cs []*Contact
		cs, total = c.view.ContactsPage(min(page-1, MaxLimit)*ciscoPageSize, ciscoPageSize)
		items = contactsOnly(cs, ciscoPageSize)
	} else {
		res := c.view.Search(Query{Text: q, Limit: MaxLimit})
		total = res.Total
		from := min((page-1)*ciscoPageSize, len(res.Items))
		items = res.Items[from:min(from+ciscoPageSize, len(res.Items))]
	}
	x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CiscoIPPhoneDirectory>\n  ")
	x.text("Title", c.view.Title)
	x.raw("\n  ")
	prompt := "Results for: " + q
	if q == "" {
		prompt = "All entries"
	}
	x.text("Prompt", prompt)
	x.raw("\n")
	for _, it := range items {
		x.raw("  <DirectoryEntry>\n    ")
		x.text("Name", it.Contact.Name)
		x.raw("\n    ")
		x.text("Telephone", phoneNumber(it.Contact))
		x.raw("\n  </DirectoryEntry>\n")
	}
	if page*ciscoPageSize < min(total, MaxLimit) {
		next := url.Values{"q": {q}, "page": {strconv.Itoa(page + 1)}}
		for i, k := range [][2]string{{"Dial", "SoftKey:Dial"}, {"Next", self + "?" + next.Encode()}, {"Exit", "SoftKey:Exit"}} {
			x.raw("  <SoftKeyItem>\n    ")
			x.text("Name", k[0])
			x.raw("\n    ")
			x.text("URL", k[1])
			x.raw("\n    ")
			x.int("Position", i+1)
			x.raw("\n  </SoftKeyItem>\n")
		}
	}
	x.raw("</CiscoIPPhoneDirectory>\n")
	c.rec.Operation, c.rec.SearchString, c.rec.ResultCount, c.rec.Total = "search", q, len(items), total
	write(w, http.StatusOK, xmlContentType, buf.Bytes())
}

// phoneNumber is what an IP phone dials: the office number, else an E.164
// route, else the mobile number, else the SIP address.
func phoneNumber(c *Contact) string {
	if c.Phone != "" {
		return c.Phone
	}
	for _, r := range c.Routes {
		if r.Protocol == "E164" {
			return r.DialString
		}
	}
	if c.Mobile != "" {
		return c.Mobile
	}
	return strings.TrimPrefix(dialable(c), "sip:")
}

// selfURL is the absolute URL of the request's path (without query).
func (s *Server) selfURL(r *http.Request) string {
	base := strings.TrimRight(s.cfg.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + r.URL.EscapedPath()
}
