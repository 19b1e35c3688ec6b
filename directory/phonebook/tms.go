package phonebook

import (
	"errors"
	"html"
	"net/http"
)

const (
	tmsContentType  = "text/xml; charset=utf-8"
	htmlContentType = "text/html; charset=utf-8"
	// soapActionHeader is SOAPAction as net/http keys it.
	soapActionHeader = "Soapaction"
)

// serveTMS answers a TMS phonebook SOAP request (PROTOCOLS.md §1): Search or
// GetPhonebooks; anything else is a SOAP Fault (§1.9).
func (s *Server) serveTMS(w http.ResponseWriter, r *http.Request, c *call) {
	buf := s.buffer()
	defer s.release(buf)
	body, pooled, err := s.readBody(r, MaxSOAPBody)
	defer s.putBody(pooled)
	var req TMSRequest
	if err == nil {
		// The request keeps copies of its text, never a slice of body.
		req, err = ParseTMSRequest(body, SOAPActionOperation(headerValue(r.Header, soapActionHeader)))
	}
	c.rec.Operation = req.Operation
	c.rec.Identification = req.Identification
	if err != nil {
		if c.rec.Operation == "" {
			c.rec.Operation = SOAPActionOperation(headerValue(r.Header, soapActionHeader))
		}
		c.rec.Error = err.Error()
		code, status := "Client", http.StatusInternalServerError // SOAP 1.1 §6.2: faults are 500
		msg := err.Error()
		switch {
		case errors.Is(err, ErrTooLarge):
			msg = "request body over 64 KiB"
		case !IsClientError(err):
			code, msg = "Server", "the request could not be read"
		}
		s.deps.Logger.Info("phonebook: TMS request refused", "organisation_id", c.rec.OrganisationID, "client_ip", c.rec.ClientIP, "err", err)
		WriteFault(buf, code, msg)
		write(w, status, tmsContentType, buf.Bytes())
		return
	}
	switch req.Operation {
	case OpGetPhonebooks:
		// GetPhonebooks has no paging of its own (PROTOCOLS.md §1.8): a
		// phonebook over MaxBulkContacts is answered in pages of that
		// many, each saying whether it is the last (IsLast, §1.5) and
		// NoOfEntries counting every contact (§1.5 rule 4); the next page
		// is asked as a Search pages (§1.7): StartFromId = the Id of the
		// last entry received.
		from := 0
		if req.StartFromID != "" {
			from = c.view.ContactPosition(req.StartFromID, req.Inclusive)
		}
		cs, total := c.view.ContactsPage(from, MaxBulkContacts)
		page := BulkPage{Contacts: cs, Total: total, IsFirst: from == 0, IsLast: from+len(cs) >= total}
		c.rec.ResultCount, c.rec.Total, c.rec.MaxResult, c.rec.StartFrom = len(cs), total, MaxBulkContacts, req.StartFromID
		if !page.IsLast {
			s.deps.Logger.Warn("phonebook: GetPhonebooks answered with part of the contacts, IsLast false (endpoints page with Search; a client continues with StartFromId)",
				"organisation_id", c.rec.OrganisationID, "client_ip", c.rec.ClientIP, "sent", len(cs), "from", from, "contacts", total)
		}
		WriteGetPhonebooksPage(buf, c.view, page)
	default:
		res := c.view.Search(Query{
			FolderID: req.SearchPath, Text: req.SearchString, CaseSensitive: req.CaseSensitive,
			Limit: req.MaxResult, StartFromID: req.StartFromID, EndAtID: req.EndAtID, Inclusive: req.Inclusive,
		})
		c.rec.SearchString, c.rec.SearchPath, c.rec.FolderPath = req.SearchString, req.SearchPath, res.FolderPath
		c.rec.MaxResult, c.rec.StartFrom = req.MaxResult, req.StartFromID
		if c.rec.StartFrom == "" {
			c.rec.StartFrom = req.EndAtID
		}
		c.rec.ResultCount, c.rec.Total = len(res.Items), res.Total
		WriteSearchResponse(buf, res)
	}
	write(w, http.StatusOK, tmsContentType, buf.Bytes())
}

// serveTMSHelp answers GET on the service path with a short help page, as the
// .asmx does (PROTOCOLS.md §1.2).
func (s *Server) serveTMSHelp(w http.ResponseWriter, _ *http.Request, c *call) {
	c.rec.Operation = "help"
	title := html.EscapeString(c.view.Title)
	page := `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>PhoneBookService</title></head><body>` +
		`<h1>PhoneBookService</h1><p>The TMS phonebook service of ` + title + `. Cisco endpoints POST SOAP 1.1 requests here ` +
		`(namespace <code>` + TMSNS + `</code>):</p><ul>` +
		`<li><b>Search</b>: search the phone book(s) set on the given system.</li>` +
		`<li><b>GetPhonebooks</b>: get all phone books set on the given system.</li></ul></body></html>`
	write(w, http.StatusOK, htmlContentType, []byte(page))
}
