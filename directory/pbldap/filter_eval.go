package pbldap

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tri is a filter's value: TRUE, FALSE or Undefined (RFC 4511 §4.5.1.7).
type tri int8

const (
	triFalse tri = iota
	triTrue
	triUndefined
)

// attrs returns the attribute types f looks at: an entry with only these
// (personAttrs) matches f exactly when the whole entry does.
func (f *filter) attrs() attrSet {
	var s attrSet
	if d := lookupAttr(f.attr); d != nil {
		s |= d.bit
	}
	for _, c := range f.children {
		s |= c.attrs()
	}
	return s
}

// matches reports whether e matches f; Undefined does not match.
func (f *filter) matches(e *ldapEntry) bool { return f.eval(e) == triTrue }

func (f *filter) eval(e *ldapEntry) tri {
	switch f.op {
	case opAnd:
		out := triTrue
		for _, c := range f.children {
			switch c.eval(e) {
			case triFalse:
				return triFalse
			case triUndefined:
				out = triUndefined
			}
		}
		return out
	case opOr:
		out := triFalse
		for _, c := range f.children {
			switch c.eval(e) {
			case triTrue:
				return triTrue
			case triUndefined:
				out = triUndefined
			}
		}
		return out
	case opNot:
		switch f.children[0].eval(e) {
		case triTrue:
			return triFalse
		case triFalse:
			return triTrue
		}
		return triUndefined
	case opPresent:
		d := lookupAttr(f.attr)
		if d != nil && (d == atObjectClass || len(e.get(d)) > 0) {
			return triTrue
		}
		return triFalse
	case opEqual, opApprox:
		// approxMatch is implementation-defined (RFC 4511 §4.5.1.7.6):
		// here it is equality.
		d := lookupAttr(f.attr)
		if d == nil {
			return triUndefined
		}
		want := normalise(d.rule, f.value, true)
		for _, v := range e.get(d) {
			if normalise(d.rule, v, true) == want {
				return triTrue
			}
		}
		return triFalse
	case opSubstrings:
		d := lookupAttr(f.attr)
		if d == nil || d.rule == ruleExact || d.rule == ruleOID {
			return triUndefined
		}
		for _, v := range e.get(d) {
			if f.substringMatch(d.rule, normalise(d.rule, v, true)) {
				return triTrue
			}
		}
		return triFalse
	}
	// greaterOrEqual, lessOrEqual: no attribute here has an ordering rule;
	// extensibleMatch: no extensible rule is supported. Both are Undefined
	// (RFC 4511 §4.5.1.7).
	return triUndefined
}

func (f *filter) substringMatch(rule matchRule, v string) bool {
	if f.initial != "" {
		p := normalise(rule, f.initial, false)
		if !strings.HasPrefix(v, p) {
			return false
		}
		v = v[len(p):]
	}
	for _, a := range f.any {
		p := normalise(rule, a, false)
		i := strings.Index(v, p)
		if i < 0 {
			return false
		}
		v = v[i+len(p):]
	}
	if f.final != "" {
		return strings.HasSuffix(v, normalise(rule, f.final, false))
	}
	return true
}

// normalise prepares a value for comparison under rule: lower case with runs
// of spaces as one (trimmed when whole is set, not for substring parts);
// numbers also without spaces and hyphens (RFC 4518 §2).
func normalise(rule matchRule, v string, whole bool) string {
	switch rule {
	case ruleExact:
		return v
	case ruleTel:
		return strings.Map(func(r rune) rune {
			if r == ' ' || r == '-' || unicode.IsSpace(r) {
				return -1
			}
			return unicode.ToLower(r)
		}, v)
	}
	if whole {
		v = strings.TrimSpace(v)
	}
	var b strings.Builder
	b.Grow(len(v))
	space := false
	for _, r := range v {
		if unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b.WriteByte(byte(r))
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// narrowKind says how a filter value on an attribute relates to the text
// directory.Store.Search matches (the folded name and address search forms).
type narrowKind uint8

const (
	narrowNone   narrowKind = iota
	narrowName              // cn, displayName, sn, givenName: parts of the name
	narrowURI               // mail, SIP and H.323 identities: the address without its scheme
	narrowDigits            // phone numbers: their digits and +
)

func narrowOf(attr string) narrowKind {
	switch lookupAttr(attr) {
	case atCN, atDisplayName, atSN, atGivenName:
		return narrowName
	case atMail, atSIPURI, atMSRTCSIP, atH323ID:
		return narrowURI
	case atTelephoneNumber, atMobile, atH323Digits:
		return narrowDigits
	}
	return narrowNone
}

// narrowValue is the search text a value of an attribute of kind k stands for,
// or "" when there is none. initial is set for a value that starts the
// attribute's value (equality, a substring's initial part).
func narrowValue(k narrowKind, v string, initial, digitsOnly bool) string {
	switch k {
	case narrowName:
		return v
	case narrowURI:
		if initial {
			l := strings.ToLower(v)
			for _, scheme := range []string{"sips:", "sip:", "h323:"} {
				if strings.HasPrefix(l, scheme) {
					return v[len(scheme):]
				}
			}
		}
		if strings.Contains(v, ":") {
			return "" // part of a scheme: not in the search form
		}
		return v
	case narrowDigits:
		var b strings.Builder
		for _, r := range v {
			switch {
			case r >= '0' && r <= '9' || r == '+' && !digitsOnly:
				b.WriteRune(r)
			case unicode.IsLetter(r):
				return "" // the search form keeps digits only
			}
		}
		if b.Len() < 2 {
			return ""
		}
		return b.String()
	}
	return ""
}

// narrowText returns a text that every entry matching f has in its name or
// address search forms, for directory.Query.Text, or "" when f does not give
// one. The filter is still evaluated exactly on what the search returns.
func (f *filter) narrowText() string { return longestWord(f.searchText(narrowNone, false)) }

// bookText is narrowText for phonebook.Book.DirectoryEntries, whose number
// forms are digits without "+": a text every matching entry has in its
// display name or an address, or "".
func (f *filter) bookText() string { return longestWord(f.searchText(narrowNone, true)) }

func longestWord(t string) string {
	// The store folds runs of spaces differently; a word of the text is
	// enough.
	best := ""
	for _, w := range strings.Fields(t) {
		if len(w) > len(best) {
			best = w
		}
	}
	return best
}

// searchText is the text of narrowText; only names attributes of kind only,
// unless it is narrowNone; digitsOnly leaves "+" out of numbers.
func (f *filter) searchText(only narrowKind, digitsOnly bool) string {
	kind := func(attr string) narrowKind {
		k := narrowOf(attr)
		if only != narrowNone && k != only {
			return narrowNone
		}
		return k
	}
	switch f.op {
	case opEqual, opApprox:
		return narrowValue(kind(f.attr), f.value, true, digitsOnly)
	case opSubstrings:
		k := kind(f.attr)
		if k == narrowNone {
			return ""
		}
		best := narrowValue(k, f.initial, true, digitsOnly)
		for _, a := range f.any {
			if t := narrowValue(k, a, false, digitsOnly); len(t) > len(best) {
				best = t
			}
		}
		if t := narrowValue(k, f.final, false, digitsOnly); len(t) > len(best) {
			best = t
		}
		return best
	case opAnd:
		best := ""
		for _, c := range f.children {
			if t := c.searchText(only, digitsOnly); len(t) > len(best) {
				best = t
			}
		}
		return best
	case opOr:
		if len(f.children) == 0 {
			return ""
		}
		first := f.children[0].searchText(only, digitsOnly)
		if first == "" {
			return ""
		}
		for _, c := range f.children[1:] {
			if !strings.EqualFold(c.searchText(only, digitsOnly), first) {
				return ""
			}
		}
		return first
	}
	return ""
}
