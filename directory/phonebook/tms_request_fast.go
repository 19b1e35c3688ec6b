package phonebook

import (
	"bytes"
	"strconv"
	"sync"
	"unicode/utf8"
)

// fastParse reads the requests endpoints send, in the form they send them,
// without encoding/xml's tokens (most of a browse's cost): a SOAP 1.1
// envelope in UTF-8 with ASCII names, namespace declarations, text with the
// predefined and numeric character references, nothing else. It gives up
// (ok false) on anything outside that subset or anything wrong, and
// ParseTMSRequest then parses with encoding/xml, which decides and words
// the error. When ok, the request is the one encoding/xml's path returns
// (FuzzFastParseMatchesDecoder holds it to that).
func fastParse(body []byte, action string) (req TMSRequest, ok bool) {
	sc := fastScratches.Get().(*fastScratch)
	defer sc.put()
	p, b := &sc.p, &sc.b
	*p = fastParser{s: body, stack: p.stack[:0], ns: p.ns[:0]}
	*b = tmsBody{}
	if !p.prolog() {
		return TMSRequest{}, false
	}
	op := ""
	for {
		p.space()
		if p.i == len(p.s) {
			break
		}
		if p.s[p.i] != '<' || p.root {
			return TMSRequest{}, false // text or a second element outside the root
		}
		if !p.element(func(depth int, space, local string) (*string, bool) {
			switch {
			case depth == 0:
				return nil, space == SOAPEnvelopeNS && local == "Envelope"
			case p.state == beforeBody:
				if depth == 1 && space == SOAPEnvelopeNS && local == "Body" {
					p.state = inBody
				}
			case p.state == inBody:
				// The first element of the Body is the operation.
				if space != TMSNS || local != OpSearch && local != OpGetPhonebooks || action != "" && action != local {
					return nil, false
				}
				op, p.state = local, inOperation
			case p.state == inOperation && depth == 3:
				switch local {
				case "Identification":
					p.ident, p.stack[3].ident = &b.Identification, true
				case "SystemIdentifier":
					p.ident, p.stack[3].ident = &b.SystemIdentifier, true
				default:
					return b.field(local), true
				}
			case p.state == inOperation && depth == 4 && p.stack[3].ident:
				return p.ident.field(local), true
			}
			return nil, true
		}) {
			return TMSRequest{}, false
		}
		p.root = true
	}
	if !p.root || p.state != afterOperation {
		return TMSRequest{}, false
	}
	r, err := newTMSRequest(op, *b)
	return r, err == nil
}

// fastScratch is what fastParse works in, pooled: a request allocates no
// parser state.
type fastScratch struct {
	p fastParser
	b tmsBody
}

var fastScratches = sync.Pool{New: func() any { return new(fastScratch) }}

// put forgets the request (its body is the caller's, its strings the
// request's) and returns sc to the pool.
func (sc *fastScratch) put() {
	clear(sc.p.stack[:cap(sc.p.stack)])
	clear(sc.p.ns[:cap(sc.p.ns)])
	sc.p = fastParser{stack: sc.p.stack[:0], ns: sc.p.ns[:0]}
	sc.b = tmsBody{}
	fastScratches.Put(sc)
}

// fastParser is fastParse's state.
type fastParser struct {
	s     []byte
	i     int
	stack []fastElement
	ns    []fastNS // declarations in scope, innermost last
	root  bool     // the root element was read
	state fastState
	ident *Identification // the Identification being read
}

// fastState is where the parser is in the envelope.
type fastState uint8

const (
	beforeBody fastState = iota
	inBody
	inOperation
	afterOperation
	bodyWithoutOperation
)

type fastElement struct {
	name  []byte // as written, prefix included
	nsLen int    // len(ns) before its declarations
	ident bool   // an Identification or SystemIdentifier of the operation
}

type fastNS struct{ prefix, uri string }

// prolog reads an optional XML declaration of version 1.0 in UTF-8.
func (p *fastParser) prolog() bool {
	if !bytes.HasPrefix(p.s, []byte("<?xml")) {
		return true
	}
	end := bytes.Index(p.s, []byte("?>"))
	if end < 0 {
		return false
	}
	switch string(p.s[:end+2]) {
	case `<?xml version="1.0"?>`, `<?xml version="1.0" encoding="utf-8"?>`, `<?xml version="1.0" encoding="UTF-8"?>`,
		`<?xml version='1.0' encoding='utf-8'?>`, `<?xml version='1.0' encoding='UTF-8'?>`, `<?xml version='1.0'?>`:
		p.i = end + 2
		return true
	}
	return false
}

func (p *fastParser) space() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// element reads one element and everything in it. visit is told each start
// element (depth from 0, namespace, local name) and returns where the
// element's own text goes (nil: nowhere) and whether to go on.
func (p *fastParser) element(visit func(depth int, space, local string) (*string, bool)) bool {
	// open is an element being read. Its text is plain, a slice of the
	// body, while it is one run without references (the usual case: one
	// string allocated at its end, or none for a common value); text
	// otherwise.
	type open struct {
		dst     *string
		plain   []byte
		text    []byte
		decoded bool // text holds it
	}
	var textsBuf [8]open
	texts := textsBuf[:0]
	for {
		// At '<'.
		if p.i+1 >= len(p.s) {
			return false
		}
		if p.s[p.i+1] == '/' {
			if len(p.stack) == 0 || !p.endTag() {
				return false
			}
			t := &texts[len(texts)-1]
			texts = texts[:len(texts)-1]
			switch {
			case t.dst == nil:
			case t.decoded:
				*t.dst = string(t.text)
			default:
				*t.dst = internValue(t.plain)
			}
			if len(p.stack) == 0 {
				return true
			}
		} else {
			space, local, empty, ok := p.startTag()
			if !ok {
				return false
			}
			depth := len(p.stack) - 1
			dst, ok := visit(depth, space, local)
			if !ok {
				return false
			}
			if empty {
				if dst != nil {
					*dst = ""
				}
				p.pop()
				if len(p.stack) == 0 {
					return true
				}
			} else {
				texts = append(texts, open{dst: dst})
			}
		}
		// Text up to the next tag: checked, then kept as a slice of the
		// body when it is the element's only run and has no reference.
		t := &texts[len(texts)-1]
		start, refs := p.i, false
		for p.i < len(p.s) && p.s[p.i] != '<' {
			refs = refs || p.s[p.i] == '&'
			if _, ok := p.char(nil, false); !ok {
				return false
			}
		}
		if t.dst != nil && p.i > start {
			switch {
			case !refs && !t.decoded && t.plain == nil:
				t.plain = p.s[start:p.i]
			default:
				if !t.decoded {
					t.text, t.decoded = append(t.text, t.plain...), true
				}
				end := p.i
				for p.i = start; p.i < end; {
					t.text, _ = p.char(t.text, true)
				}
			}
		}
		if p.i == len(p.s) {
			return false
		}
		if p.i+1 < len(p.s) && (p.s[p.i+1] == '!' || p.s[p.i+1] == '?') {
			return false // comment, CDATA, processing instruction
		}
	}
}

// char reads one character of text (a reference decoded), appending it to
// text when keep is set.
func (p *fastParser) char(text []byte, keep bool) ([]byte, bool) {
	c := p.s[p.i]
	switch {
	case c == '&':
		end := bytes.IndexByte(p.s[p.i:min(len(p.s), p.i+12)], ';')
		if end < 0 {
			return nil, false
		}
		ref := string(p.s[p.i+1 : p.i+end])
		p.i += end + 1
		var r rune
		switch ref {
		case "amp":
			r = '&'
		case "lt":
			r = '<'
		case "gt":
			r = '>'
		case "quot":
			r = '"'
		case "apos":
			r = '\''
		default:
			if len(ref) < 2 || ref[0] != '#' {
				return nil, false
			}
			var n uint64
			var err error
			if ref[1] == 'x' {
				n, err = strconv.ParseUint(ref[2:], 16, 32)
			} else {
				n, err = strconv.ParseUint(ref[1:], 10, 32)
			}
			if err != nil || ref[1] == '+' || ref[1] == 'x' && len(ref) > 2 && ref[2] == '+' || !inCharRange(rune(n)) || n == '\r' {
				return nil, false
			}
			r = rune(n)
		}
		if keep {
			text = utf8.AppendRune(text, r)
		}
		return text, true
	case c == '\r' || c == ']':
		return nil, false // line ends normalised, "]]>": encoding/xml decides
	case c < utf8.RuneSelf:
		if c < 0x20 && c != '\t' && c != '\n' {
			return nil, false
		}
		p.i++
		if keep {
			text = append(text, c)
		}
		return text, true
	}
	r, n := utf8.DecodeRune(p.s[p.i:])
	if r == utf8.RuneError && n <= 1 || !inCharRange(r) {
		return nil, false
	}
	if keep {
		text = append(text, p.s[p.i:p.i+n]...)
	}
	p.i += n
	return text, true
}

// inCharRange is XML 1.0's Char production.
func inCharRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// name reads an ASCII name with at most one colon.
func (p *fastParser) name() ([]byte, bool) {
	start := p.i
	colons := 0
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_':
		case c >= '0' && c <= '9' || c == '-' || c == '.':
			if p.i == start || p.s[p.i-1] == ':' {
				return nil, false
			}
		case c == ':':
			colons++
			if colons > 1 || p.i == start {
				return nil, false
			}
		default:
			n := p.s[start:p.i]
			return n, len(n) > 0 && n[len(n)-1] != ':'
		}
		p.i++
	}
	return nil, false
}

// startTag reads a start tag after '<' and pushes it; it resolves the
// element's namespace.
func (p *fastParser) startTag() (space, local string, empty, ok bool) {
	p.i++
	name, ok := p.name()
	if !ok {
		return "", "", false, false
	}
	e := fastElement{name: name, nsLen: len(p.ns)}
	for {
		sp := p.i
		p.space()
		if p.i >= len(p.s) {
			return "", "", false, false
		}
		if p.s[p.i] == '>' {
			p.i++
			break
		}
		if p.s[p.i] == '/' {
			if p.i+1 >= len(p.s) || p.s[p.i+1] != '>' {
				return "", "", false, false
			}
			p.i += 2
			empty = true
			break
		}
		if p.i == sp {
			return "", "", false, false // no space before an attribute
		}
		an, ok := p.name()
		if !ok {
			return "", "", false, false
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '=' {
			return "", "", false, false
		}
		p.i++
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '"' && p.s[p.i] != '\'' {
			return "", "", false, false
		}
		q := p.s[p.i]
		end := bytes.IndexByte(p.s[p.i+1:], q)
		if end < 0 {
			return "", "", false, false
		}
		v := p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		for _, c := range v {
			if c < 0x20 || c == '<' || c == '&' || c >= utf8.RuneSelf {
				return "", "", false, false
			}
		}
		switch {
		case string(an) == "xmlns":
			p.ns = append(p.ns, fastNS{uri: internNS(v)})
		case bytes.HasPrefix(an, []byte("xmlns:")):
			if string(an[6:]) == "xml" || string(an[6:]) == "xmlns" || len(v) == 0 {
				return "", "", false, false
			}
			p.ns = append(p.ns, fastNS{prefix: internNS(an[6:]), uri: internNS(v)})
		case bytes.IndexByte(an, ':') >= 0:
			if !p.declared(an[:bytes.IndexByte(an, ':')]) {
				return "", "", false, false
			}
		}
	}
	p.stack = append(p.stack, e)
	prefix, loc := []byte(nil), name
	if i := bytes.IndexByte(name, ':'); i >= 0 {
		prefix, loc = name[:i], name[i+1:]
	}
	if string(prefix) == "xml" || string(prefix) == "xmlns" {
		return "", "", false, false
	}
	for j := len(p.ns) - 1; j >= 0; j-- {
		if p.ns[j].prefix == string(prefix) {
			return p.ns[j].uri, internName(loc), empty, true
		}
	}
	if prefix != nil {
		return "", "", false, false // an undeclared prefix
	}
	return "", internName(loc), empty, true
}

// internName returns b as a string, without allocating for the names
// requests hold.
func internName(b []byte) string {
	switch string(b) {
	case "Envelope":
		return "Envelope"
	case "Header":
		return "Header"
	case "Body":
		return "Body"
	case OpSearch:
		return OpSearch
	case OpGetPhonebooks:
		return OpGetPhonebooks
	case "Identification":
		return "Identification"
	case "SystemIdentifier":
		return "SystemIdentifier"
	case "SystemName":
		return "SystemName"
	case "MACAddress":
		return "MACAddress"
	case "IPAddress":
		return "IPAddress"
	case "IPAddressV6":
		return "IPAddressV6"
	case "ProductType":
		return "ProductType"
	case "ProductID":
		return "ProductID"
	case "SWVersion":
		return "SWVersion"
	case "HWBoard":
		return "HWBoard"
	case "SerialNumber":
		return "SerialNumber"
	case "CaseSensitiveSearch":
		return "CaseSensitiveSearch"
	case "SearchPath":
		return "SearchPath"
	case "SearchString":
		return "SearchString"
	case "SearchType":
		return "SearchType"
	case "Scope":
		return "Scope"
	case "MaxResult":
		return "MaxResult"
	case "StartFromId":
		return "StartFromId"
	case "EndAtId":
		return "EndAtId"
	case "RangeInclusive":
		return "RangeInclusive"
	case "Routing":
		return "Routing"
	}
	return string(b)
}

// internNS is internName for namespace names and prefixes.
func internNS(b []byte) string {
	switch string(b) {
	case SOAPEnvelopeNS:
		return SOAPEnvelopeNS
	case TMSNS:
		return TMSNS
	case "http://www.w3.org/2001/XMLSchema-instance":
		return "http://www.w3.org/2001/XMLSchema-instance"
	case "http://www.w3.org/2001/XMLSchema":
		return "http://www.w3.org/2001/XMLSchema"
	case "soap":
		return "soap"
	case "s":
		return "s"
	case "env":
		return "env"
	case "SOAP-ENV":
		return "SOAP-ENV"
	case "soapenv":
		return "soapenv"
	case "xsi":
		return "xsi"
	case "xsd":
		return "xsd"
	}
	return string(b)
}

// internValue is internName for the text of the fields whose values
// repeat from request to request.
func internValue(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "false":
		return "false"
	case "true":
		return "true"
	case "Free":
		return "Free"
	case "SubTree":
		return "SubTree"
	case "SingleLevel":
		return "SingleLevel"
	case "50":
		return "50"
	case "100":
		return "100"
	case "Cisco Codec":
		return "Cisco Codec"
	}
	return string(b)
}

// declared reports whether prefix is in scope (for an attribute).
func (p *fastParser) declared(prefix []byte) bool {
	if string(prefix) == "xmlns" || string(prefix) == "xml" {
		return false
	}
	for j := len(p.ns) - 1; j >= 0; j-- {
		if p.ns[j].prefix == string(prefix) {
			return true
		}
	}
	return false
}

// endTag reads an end tag at "</" that closes the innermost element.
func (p *fastParser) endTag() bool {
	p.i += 2
	name, ok := p.name()
	if !ok || !bytes.Equal(name, p.stack[len(p.stack)-1].name) {
		return false
	}
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != '>' {
		return false
	}
	p.i++
	p.pop()
	return true
}

func (p *fastParser) pop() {
	e := p.stack[len(p.stack)-1]
	p.ns = p.ns[:e.nsLen]
	p.stack = p.stack[:len(p.stack)-1]
	switch {
	case p.state == inOperation && len(p.stack) == 2:
		p.state = afterOperation // nothing after the operation is read
	case p.state == inBody && len(p.stack) == 1:
		p.state = bodyWithoutOperation
	}
}
