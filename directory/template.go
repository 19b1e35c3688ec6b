package directory

import (
	"regexp"
	"strings"
)

// Template is a parsed mapping expression in the style of Cisco Meeting Server
// (PROTOCOLS.md §5.4): literal text mixed with attribute references.
//
//	$displayName$                  the attribute's value
//	$sAMAccountName$@video.example literal text around it
//	$labeledURI:sip$               values whose URI has the scheme sip, without "sip:"
//	$mail|'/@corp/@video/'$        a sed-like substitution (flag g: every match;
//	                               \0–\9 in the replacement are back-references)
//	$$                             a literal dollar sign
//
// A reference to a multi-valued attribute yields one result per value. A
// template whose reference finds no value yields nothing.
type Template struct {
	src   string
	parts []tmplPart
}

type tmplPart struct {
	lit    string // literal text when attr == ""
	attr   string // lower-case attribute name
	name   string // attribute name as written
	ref    string // the reference as written, without the substitution ("labeledURI:sip")
	scheme string // lower-case URI scheme to pick, or ""
	re     *regexp.Regexp
	repl   string
	global bool
}

// maxTemplateResults bounds the values one template yields for one entry (the
// product of multi-valued references).
const maxTemplateResults = 32

// ParseTemplate parses a mapping expression. A malformed one is a
// *TemplateError with the byte position of the problem.
func ParseTemplate(src string) (*Template, error) {
	t := &Template{src: src}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, tmplPart{lit: lit.String()})
			lit.Reset()
		}
	}
	fail := func(pos int, msg string) (*Template, error) {
		return nil, &TemplateError{Template: src, Pos: pos, Msg: msg}
	}
	i := 0
	for i < len(src) {
		c := src[i]
		if c != '$' {
			lit.WriteByte(c)
			i++
			continue
		}
		if i+1 < len(src) && src[i+1] == '$' {
			lit.WriteByte('$')
			i += 2
			continue
		}
		start := i
		i++
		// Attribute name (RFC 4512 §1.4 descr, or a numeric OID), with options.
		j := i
		for j < len(src) && isAttrChar(src[j]) {
			j++
		}
		if j == i {
			if j >= len(src) {
				return fail(start, "unterminated reference: missing closing $")
			}
			return fail(j, "expected an attribute name after $")
		}
		if !isAlpha(src[i]) && !isDigit(src[i]) {
			return fail(i, "an attribute name starts with a letter or digit")
		}
		p := tmplPart{name: src[i:j], attr: strings.ToLower(src[i:j])}
		i = j
		if i < len(src) && src[i] == ':' {
			i++
			j = i
			for j < len(src) && (isAlpha(src[j]) || isDigit(src[j]) || src[j] == '+' || src[j] == '-' || src[j] == '.') {
				j++
			}
			if j == i || !isAlpha(src[i]) {
				return fail(i, "expected a URI scheme after ':'")
			}
			p.scheme = strings.ToLower(src[i:j])
			i = j
		}
		p.ref = src[start+1 : i]
		if i < len(src) && src[i] == '|' {
			n, err := parseSed(src, i+1, &p)
			if err != nil {
				return nil, err
			}
			i = n
		}
		if i >= len(src) {
			return fail(start, "unterminated reference: missing closing $")
		}
		if src[i] != '$' {
			return fail(i, "unexpected "+quoteByte(src[i])+" in a reference; expected $")
		}
		i++
		flush()
		t.parts = append(t.parts, p)
	}
	flush()
	return t, nil
}

// parseSed parses '/pattern/replacement/flags' starting at i (after the |) and
// returns the index after the closing quote.
func parseSed(src string, i int, p *tmplPart) (int, error) {
	fail := func(pos int, msg string) (int, error) {
		return 0, &TemplateError{Template: src, Pos: pos, Msg: msg}
	}
	if i >= len(src) || src[i] != '\'' {
		return fail(i, "expected a quoted substitution '/pattern/replacement/' after |")
	}
	q := i
	i++
	if i >= len(src) || src[i] != '/' {
		return fail(i, "a substitution starts with /")
	}
	i++
	var fields []string
	var cur strings.Builder
	for {
		if i >= len(src) {
			return fail(q, "unterminated substitution: missing closing '")
		}
		c := src[i]
		switch {
		case c == '\\' && i+1 < len(src) && (src[i+1] == '/' || src[i+1] == '\''):
			cur.WriteByte(src[i+1])
			i += 2
			continue
		case c == '/' && len(fields) < 2:
			fields = append(fields, cur.String())
			cur.Reset()
			i++
			continue
		case c == '\'':
			if len(fields) < 2 {
				return fail(i, "a substitution needs /pattern/replacement/")
			}
			flags := cur.String()
			if flags != "" && flags != "g" {
				return fail(i-len(flags), "unknown substitution flag "+flags+"; only g is known")
			}
			re, err := regexp.Compile(fields[0])
			if err != nil {
				return fail(q+2, "bad pattern: "+err.Error())
			}
			p.re, p.global = re, flags == "g"
			p.repl = sedReplacement(fields[1])
			return i + 1, nil
		}
		cur.WriteByte(c)
		i++
	}
}

// sedReplacement turns \0–\9 back-references into regexp's ${0}–${9} and
// escapes other dollar signs.
func sedReplacement(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && isDigit(s[i+1]):
			b.WriteString("${" + s[i+1:i+2] + "}")
			i++
		case s[i] == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// String returns the template as written.
func (t *Template) String() string { return t.src }

// Attributes returns the lower-case names of the attributes the template reads.
func (t *Template) Attributes() []string {
	var out []string
	for _, p := range t.parts {
		if p.attr != "" {
			out = append(out, p.attr)
		}
	}
	return out
}

// Empty reports whether the template is the empty string.
func (t *Template) Empty() bool { return len(t.parts) == 0 }

// Attrs gives the values of an attribute by lower-case name.
type Attrs interface {
	Values(lowerName string) []string
}

// Eval fills the template from attrs. It returns the results (none when a
// reference has no value) and the attribute names, as written, that had no
// value.
func (t *Template) Eval(attrs Attrs) (out []string, missing []string) {
	out = []string{""}
	for _, p := range t.parts {
		if p.attr == "" {
			for k := range out {
				out[k] += p.lit
			}
			continue
		}
		vals := p.pick(attrs.Values(p.attr))
		if len(vals) == 0 {
			missing = append(missing, p.ref)
			out = out[:0]
			continue
		}
		if len(out) == 0 {
			continue
		}
		next := make([]string, 0, len(out)*len(vals))
		for _, o := range out {
			for _, v := range vals {
				if len(next) == maxTemplateResults {
					break
				}
				next = append(next, o+v)
			}
		}
		out = next
	}
	if len(out) == 0 || len(out) == 1 && out[0] == "" {
		return nil, missing
	}
	return out, missing
}

// First is Eval's first result, or "".
func (t *Template) First(attrs Attrs) (string, []string) {
	out, missing := t.Eval(attrs)
	if len(out) == 0 {
		return "", missing
	}
	return out[0], missing
}

func (p *tmplPart) pick(vals []string) []string {
	if p.scheme == "" && p.re == nil {
		return vals
	}
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		if p.scheme != "" {
			var ok bool
			if v, ok = pickScheme(v, p.scheme); !ok {
				continue
			}
		}
		if p.re != nil {
			if p.global {
				v = p.re.ReplaceAllString(v, p.repl)
			} else if loc := p.re.FindStringSubmatchIndex(v); loc != nil {
				v = v[:loc[0]] + string(p.re.ExpandString(nil, p.repl, v, loc)) + v[loc[1]:]
			}
		}
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// pickScheme returns the URI of a labeledURI-style value ("sip:a@b label")
// without its scheme, if the scheme matches (case-insensitively).
func pickScheme(v, scheme string) (string, bool) {
	v = strings.TrimSpace(v)
	if k := strings.IndexAny(v, " \t"); k >= 0 {
		v = v[:k] // RFC 2079: the label follows the URI after a space
	}
	if len(v) <= len(scheme) || v[len(scheme)] != ':' || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	return v[len(scheme)+1:], true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAttrChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == ';'
}

func quoteByte(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return "byte"
	}
	return "'" + string(c) + "'"
}
