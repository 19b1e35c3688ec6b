package phonebook

import (
	"bytes"
	"strconv"
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
	p := fastParser{s: body}
	if !p.prolog() {
		return TMSRequest{}, false
	}
	var b tmsBody
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
	r, err := newTMSRequest(op, b)
	return r, err == nil
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
	type open struct {
		dst  *string
		text []byte
	}
	var texts []open
	for {
		// At '<'.
		if p.i+1 >= len(p.s) {
			return false
		}
		if p.s[p.i+1] == '/' {
			if len(p.stack) == 0 || !p.endTag() {
				return false
			}
			t := texts[len(texts)-1]
			texts = texts[:len(texts)-1]
			if t.dst != nil {
				*t.dst = string(t.text)
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
		// Text up to the next tag.
		t := &texts[len(texts)-1]
		for p.i < len(p.s) && p.s[p.i] != '<' {
			var ok bool
			if t.text, ok = p.char(t.text, t.dst != nil); !ok {
				return false
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
			p.ns = append(p.ns, fastNS{uri: string(v)})
		case bytes.HasPrefix(an, []byte("xmlns:")):
			if string(an[6:]) == "xml" || string(an[6:]) == "xmlns" || len(v) == 0 {
				return "", "", false, false
			}
			p.ns = append(p.ns, fastNS{prefix: string(an[6:]), uri: string(v)})
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
			return p.ns[j].uri, string(loc), empty, true
		}
	}
	if prefix != nil {
		return "", "", false, false // an undeclared prefix
	}
	return "", string(loc), empty, true
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
