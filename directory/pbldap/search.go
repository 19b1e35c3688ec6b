package pbldap

import (
	"context"
	"errors"
	"fmt"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/bifrost-video/bifrost/directory"
)

// searchRequest is a SearchRequest (RFC 4511 §4.5.1).
type searchRequest struct {
	baseDN    string
	scope     int64
	sizeLimit int64
	timeLimit int64
	typesOnly bool
	filter    *filter
	attrs     []string
}

var scopeNames = [...]string{"base", "one", "sub"}

func parseSearch(op *ber.Packet) (*searchRequest, error) {
	ch := op.Children
	if op.TagType != ber.TypeConstructed || len(ch) < 7 || len(ch) > 8 {
		return nil, fmt.Errorf("%w: search request", errMalformed)
	}
	var req searchRequest
	var ok [6]bool
	req.baseDN, ok[0] = stringOf(ch[0])
	req.scope, ok[1] = intOf(ch[1])
	_, ok[2] = intOf(ch[2]) // derefAliases: there are no aliases
	req.sizeLimit, ok[3] = intOf(ch[3])
	req.timeLimit, ok[4] = intOf(ch[4])
	req.typesOnly, ok[5] = boolOf(ch[5])
	for _, o := range ok {
		if !o {
			return nil, fmt.Errorf("%w: search request fields", errMalformed)
		}
	}
	if req.scope < 0 || req.scope > 2 || req.sizeLimit < 0 || req.timeLimit < 0 {
		return nil, fmt.Errorf("%w: search scope or limits", errMalformed)
	}
	f, err := parseFilter(ch[6])
	if err != nil {
		return nil, err
	}
	req.filter = f
	if len(ch) == 8 {
		for _, a := range ch[7].Children {
			s, ok := stringOf(a)
			if !ok {
				return nil, fmt.Errorf("%w: attribute selection", errMalformed)
			}
			req.attrs = append(req.attrs, s)
		}
	}
	return &req, nil
}

// searchResult is how a search ended.
type searchResult struct {
	code    uint16
	matched string
	diag    string
	sent    int
	paging  *ldap.ControlPaging // the response control of a paged search
}

// errWrite is a failure to write to the client: the connection ends.
var errWrite = errors.New("pbldap: write to client")

// searcher runs one search for one connection.
type searcher struct {
	c     *conn
	ctx   context.Context
	msgID int64
	req   *searchRequest
	sel   selection
	// limits: entries of this response, and in total (0: none).
	pageLimit, totalLimit int
	paged                 bool
	cur                   cursor
	fp                    uint64
	res                   searchResult
}

// emit sends a matching entry at position pos, or ends the search when a
// limit is reached. It returns true when the search must stop.
func (s *searcher) emit(e *ldapEntry, pos cursor) (bool, error) {
	if s.totalLimit > 0 && s.cur.sent+s.res.sent >= s.totalLimit {
		s.res.code = ldap.LDAPResultSizeLimitExceeded
		return true, nil
	}
	if s.res.sent >= s.pageLimit {
		if s.paged {
			pos.sent = s.cur.sent + s.res.sent
			s.res.paging.SetCookie(pos.cookie(s.fp))
		} else {
			s.res.code = ldap.LDAPResultSizeLimitExceeded
		}
		return true, nil
	}
	s.c.scratch = appendSearchEntry(s.c.scratch[:0], s.msgID, e.dn, s.sel.pick(e), s.req.typesOnly)
	if _, err := s.c.w.Write(s.c.scratch); err != nil {
		return true, fmt.Errorf("%w: %v", errWrite, err)
	}
	if cap(s.c.scratch) > 64<<10 {
		s.c.scratch = nil // an outsized entry: do not keep its buffer
	}
	s.res.sent++
	return false, nil
}

// search runs a search request and returns how it ended; an error means the
// connection is broken.
func (c *conn) search(ctx context.Context, m *message, req *searchRequest) (searchResult, error) {
	cfg := &c.srv.cfg
	if req.baseDN == "" && req.scope == 0 {
		return c.rootDSE(m, req)
	}
	if !c.bound {
		return searchResult{code: ldap.LDAPResultInsufficientAccessRights, diag: "bind with the phonebook token first"}, nil
	}
	baseDN := req.baseDN
	if baseDN == "" {
		baseDN = cfg.BaseDN // a client without a configured base DN searches the phonebook
	}
	limit := cfg.MaxTime
	if req.timeLimit > 0 && req.timeLimit < int64(limit/time.Second) {
		limit = time.Duration(req.timeLimit) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()

	s := &searcher{c: c, ctx: ctx, msgID: m.id, req: req, sel: newSelection(req.attrs),
		pageLimit: cfg.MaxResults, totalLimit: int(min(req.sizeLimit, 1<<31))}
	if pc, ok := ldap.FindControl(m.controls, ldap.ControlTypePaging).(*ldap.ControlPaging); ok {
		s.paged = true
		s.res.paging = &ldap.ControlPaging{}
		s.fp = fingerprint(c.scope, req)
		if len(pc.Cookie) > 0 {
			cur, ok := parseCookie(pc.Cookie, s.fp)
			if !ok {
				return searchResult{code: ldap.LDAPResultUnwillingToPerform, diag: "the paged results cookie does not belong to this search"}, nil
			}
			s.cur = cur
		}
		if pc.PagingSize == 0 {
			// RFC 2696 §3: a size of zero abandons the paged search.
			s.res.code = ldap.LDAPResultSuccess
			return s.res, nil
		}
		s.pageLimit = min(int(pc.PagingSize), cfg.MaxResults)
	}
	var err error
	if c.srv.books != nil {
		err = s.runBook(baseDN)
	} else {
		err = s.run(baseDN)
	}
	if err != nil {
		if errors.Is(err, errWrite) {
			return s.res, err
		}
		switch {
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
			s.res.code, s.res.diag = ldap.LDAPResultTimeLimitExceeded, "time limit exceeded"
		case errors.Is(err, context.Canceled):
			s.res.code, s.res.diag = ldap.LDAPResultUnavailable, "server stopping"
		default:
			c.log.Error("ldap search failed", "err", err)
			s.res.code, s.res.diag = ldap.LDAPResultUnavailable, "the directory is unavailable"
		}
		if s.paged {
			s.res.paging.SetCookie(nil)
		}
	}
	return s.res, nil
}

// run walks the candidates: the folders in scope, then the entries.
func (s *searcher) run(baseDN string) error {
	c, req := s.c, s.req
	org := c.scope.OrganisationID
	folders, err := c.srv.folders.get(s.ctx, org)
	if err != nil {
		return err
	}
	t := buildTree(folders, c.scope.FolderID, c.srv.cfg.BaseDN)
	tg, code, matched := t.resolve(baseDN, c.srv.base)
	if code != ldap.LDAPResultSuccess {
		s.res.code, s.res.matched = code, matched
		return nil
	}
	if tg.entryID != "" {
		e, err := c.srv.dir.GetEntry(s.ctx, org, tg.entryID)
		if errors.Is(err, directory.ErrNotFound) || err == nil && (!e.Published() || t.folderOf(&e) != tg.node) {
			s.res.code, s.res.matched = ldap.LDAPResultNoSuchObject, tg.node.dn
			return nil
		}
		if err != nil {
			return err
		}
		if req.scope != 0 && req.scope != 2 || s.cur.folder > 0 {
			return nil // one level below an entry: nothing
		}
		le := personEntry(entryDN(tg.node, e.ID), &e)
		if req.filter.matches(le) {
			if _, err := s.emit(le, cursor{}); err != nil {
				return err
			}
		}
		return nil
	}

	var nodes []*folderNode
	switch req.scope {
	case 0:
		nodes = []*folderNode{tg.node}
	case 1:
		nodes = tg.node.children
	case 2:
		nodes = tg.node.subtree()
	}
	for i := s.cur.folder; i < len(nodes); i++ {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		n := nodes[i]
		le := folderEntry(n.dn, n.name)
		if n == t.root {
			le = s.c.srv.baseEntry()
		}
		if !req.filter.matches(le) {
			continue
		}
		if stop, err := s.emit(le, cursor{folder: i}); stop || err != nil {
			return err
		}
	}
	if req.scope == 0 {
		s.done()
		return nil
	}

	q := directory.Query{PublishedOnly: true, Text: req.filter.narrowText()}
	var within map[string]bool
	switch {
	case req.scope == 1 || len(tg.node.children) == 0:
		if tg.node.id == "" {
			q.InRoot = true
		} else {
			q.FolderID = &tg.node.id
		}
	case tg.node.id != "":
		within = map[string]bool{}
		for _, n := range tg.node.subtree() {
			within[n.id] = true
		}
	}
	// Read no more than the limit needs (one more tells whether the limit
	// is exceeded), in chunks the store pages well.
	need := s.pageLimit
	if s.totalLimit > 0 {
		need = min(need, s.totalLimit-s.cur.sent)
	}
	chunk := min(max(need+1, 50), 500)
	for off := s.cur.offset; ; off += chunk {
		q.Limit, q.Offset = chunk, off
		p, err := c.srv.dir.Search(s.ctx, org, q)
		if err != nil {
			return err
		}
		for j := range p.Entries {
			if err := s.ctx.Err(); err != nil {
				return err
			}
			e := &p.Entries[j]
			n := t.folderOf(e)
			if n == nil || within != nil && !within[n.id] {
				continue
			}
			le := personEntry(entryDN(n, e.ID), e)
			if !req.filter.matches(le) {
				continue
			}
			if stop, err := s.emit(le, cursor{folder: len(nodes), offset: off + j}); stop || err != nil {
				return err
			}
		}
		if len(p.Entries) < chunk {
			break
		}
	}
	s.done()
	return nil
}

// done marks a search that ran to its end.
func (s *searcher) done() {
	s.res.code = ldap.LDAPResultSuccess
	if s.paged {
		s.res.paging.SetCookie(nil)
	}
}

// baseEntry is the entry of the base DN itself.
func (srv *Server) baseEntry() *ldapEntry {
	e := &ldapEntry{dn: srv.cfg.BaseDN}
	rdn := srv.base.RDNs[0].Attributes[0]
	switch d := lookupAttr(rdn.Type); d {
	case atOU:
		e.add(atObjectClass, "top", "organizationalUnit")
		e.add(atOU, rdn.Value)
	case atO:
		e.add(atObjectClass, "top", "organization")
		e.add(atO, rdn.Value)
	default:
		e.add(atObjectClass, "top")
	}
	return e
}

// rootDSE answers a base search of the empty DN (RFC 4512 §5.1), which
// clients read before they bind to learn the naming context.
func (c *conn) rootDSE(m *message, req *searchRequest) (searchResult, error) {
	e := &ldapEntry{dn: ""}
	e.add(atObjectClass, "top")
	e.add(atNamingContexts, c.srv.cfg.BaseDN)
	e.add(atSupportedLDAP, "3")
	e.add(atSupportedCtrl, ldap.ControlTypePaging)
	exts := []string{oidWhoAmI}
	if c.srv.cfg.TLS != nil {
		exts = append(exts, oidStartTLS)
	}
	e.add(atSupportedExt, exts...)
	e.add(atVendorName, "Bifrost")
	s := &searcher{c: c, msgID: m.id, req: req, sel: newSelection(req.attrs), pageLimit: 1}
	if req.filter.matches(e) {
		if _, err := s.emit(e, cursor{}); err != nil {
			return s.res, err
		}
	}
	s.res.code = ldap.LDAPResultSuccess
	return s.res, nil
}

// scopeName names a search scope for logs.
func scopeName(s int64) string {
	if s >= 0 && int(s) < len(scopeNames) {
		return scopeNames[s]
	}
	return "?"
}
