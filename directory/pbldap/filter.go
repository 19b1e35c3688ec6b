package pbldap

import (
	"fmt"
	"strings"
	"unicode/utf8"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// filterOp is the choice of a Filter (RFC 4511 §4.5.1.7), by its context tag.
type filterOp uint8

// The filter choices.
const (
	opAnd        filterOp = 0
	opOr         filterOp = 1
	opNot        filterOp = 2
	opEqual      filterOp = 3
	opSubstrings filterOp = 4
	opGreater    filterOp = 5
	opLess       filterOp = 6
	opPresent    filterOp = 7
	opApprox     filterOp = 8
	opExtensible filterOp = 9
)

// Bounds on a filter: a filter past them gets adminLimitExceeded.
const (
	maxFilterDepth = 32
	maxFilterNodes = 512
)

// filter is a parsed search filter.
type filter struct {
	op       filterOp
	attr     string // as sent; matched case-insensitively
	value    string // equality, approx, ordering, extensible
	initial  string // substrings; "" when absent
	any      []string
	final    string
	rule     string // extensible: matchingRule
	dnAttrs  bool   // extensible: dnAttributes
	children []*filter
}

// parseFilter reads a Filter from its BER form.
func parseFilter(p *ber.Packet) (*filter, error) {
	nodes := 0
	return parseFilterDepth(p, 0, &nodes)
}

func parseFilterDepth(p *ber.Packet, depth int, nodes *int) (*filter, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: missing filter", errMalformed)
	}
	*nodes++
	if depth > maxFilterDepth || *nodes > maxFilterNodes {
		return nil, errFilterLimit
	}
	if p.ClassType != ber.ClassContext || p.Tag > 9 {
		return nil, fmt.Errorf("%w: filter choice %d/%d", errMalformed, p.ClassType, p.Tag)
	}
	f := &filter{op: filterOp(p.Tag)}
	bad := func(what string) error { return fmt.Errorf("%w: %s filter", errMalformed, what) }
	switch f.op {
	case opAnd, opOr:
		if p.TagType != ber.TypeConstructed {
			return nil, bad("and/or")
		}
		for _, c := range p.Children {
			cf, err := parseFilterDepth(c, depth+1, nodes)
			if err != nil {
				return nil, err
			}
			f.children = append(f.children, cf)
		}
	case opNot:
		if p.TagType != ber.TypeConstructed || len(p.Children) != 1 {
			return nil, bad("not")
		}
		cf, err := parseFilterDepth(p.Children[0], depth+1, nodes)
		if err != nil {
			return nil, err
		}
		f.children = []*filter{cf}
	case opEqual, opGreater, opLess, opApprox:
		if p.TagType != ber.TypeConstructed || len(p.Children) != 2 {
			return nil, bad("attribute value assertion")
		}
		var ok1, ok2 bool
		f.attr, ok1 = stringOf(p.Children[0])
		f.value, ok2 = stringOf(p.Children[1])
		if !ok1 || !ok2 || f.attr == "" {
			return nil, bad("attribute value assertion")
		}
	case opPresent:
		var ok bool
		if f.attr, ok = stringOf(p); !ok || f.attr == "" {
			return nil, bad("present")
		}
	case opSubstrings:
		if p.TagType != ber.TypeConstructed || len(p.Children) != 2 {
			return nil, bad("substrings")
		}
		var ok bool
		if f.attr, ok = stringOf(p.Children[0]); !ok || f.attr == "" {
			return nil, bad("substrings")
		}
		subs := p.Children[1]
		if len(subs.Children) == 0 {
			return nil, bad("substrings")
		}
		// RFC 4511 §4.5.1.7.2: at most one initial, first; at most one
		// final, last; any in between.
		for i, c := range subs.Children {
			v, ok := stringOf(c)
			if !ok || c.ClassType != ber.ClassContext || v == "" {
				return nil, bad("substrings")
			}
			switch c.Tag {
			case 0:
				if i != 0 {
					return nil, bad("substrings")
				}
				f.initial = v
			case 1:
				if f.final != "" {
					return nil, bad("substrings")
				}
				f.any = append(f.any, v)
			case 2:
				if i != len(subs.Children)-1 {
					return nil, bad("substrings")
				}
				f.final = v
			default:
				return nil, bad("substrings")
			}
		}
	case opExtensible:
		if p.TagType != ber.TypeConstructed {
			return nil, bad("extensible")
		}
		seen := false
		for _, c := range p.Children {
			if c.ClassType != ber.ClassContext {
				return nil, bad("extensible")
			}
			switch c.Tag {
			case 1:
				f.rule, _ = stringOf(c)
			case 2:
				f.attr, _ = stringOf(c)
			case 3:
				f.value, _ = stringOf(c)
				seen = true
			case 4:
				f.dnAttrs = len(c.Data.Bytes()) == 1 && c.Data.Bytes()[0] != 0
			default:
				return nil, bad("extensible")
			}
		}
		if !seen || f.rule == "" && f.attr == "" {
			return nil, bad("extensible")
		}
	}
	return f, nil
}

// String returns the filter in its RFC 4515 string form, values escaped.
func (f *filter) String() string {
	var b strings.Builder
	f.write(&b)
	return b.String()
}

func (f *filter) write(b *strings.Builder) {
	b.WriteByte('(')
	switch f.op {
	case opAnd, opOr, opNot:
		b.WriteByte("&|!"[f.op])
		for _, c := range f.children {
			c.write(b)
		}
	case opEqual, opGreater, opLess, opApprox:
		b.WriteString(f.attr)
		b.WriteString([...]string{opEqual: "=", opGreater: ">=", opLess: "<=", opApprox: "~="}[f.op])
		b.WriteString(escapeValue(f.value))
	case opPresent:
		b.WriteString(f.attr)
		b.WriteString("=*")
	case opSubstrings:
		b.WriteString(f.attr)
		b.WriteByte('=')
		b.WriteString(escapeValue(f.initial))
		b.WriteByte('*')
		for _, a := range f.any {
			b.WriteString(escapeValue(a))
			b.WriteByte('*')
		}
		b.WriteString(escapeValue(f.final))
	case opExtensible:
		b.WriteString(f.attr)
		if f.dnAttrs {
			b.WriteString(":dn")
		}
		if f.rule != "" {
			b.WriteByte(':')
			b.WriteString(f.rule)
		}
		b.WriteString(":=")
		b.WriteString(escapeValue(f.value))
	}
	b.WriteByte(')')
}

// escapeValue escapes a value for the string form (RFC 4515 §3): the
// characters * ( ) \ and NUL, control characters and bytes that are not
// UTF-8 as \XX; other UTF-8 stays readable, for the request log.
func escapeValue(v string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(v); {
		c := v[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(v[i:])
			if r != utf8.RuneError || n > 1 {
				b.WriteString(v[i : i+n])
				i += n
				continue
			}
		} else if c >= 0x20 && c != 0x7f && c != '*' && c != '(' && c != ')' && c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		b.WriteByte('\\')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
		i++
	}
	return b.String()
}
