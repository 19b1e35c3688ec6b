package directory

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Mapping says how LDAP attributes become an entry's fields: field name →
// template (see Template). The fields are name, kind, title, department,
// organisation, sip, h323, e164, tel and mobile. An empty template leaves the
// field empty.
type Mapping map[string]string

// MappedFields lists the fields a Mapping may set, in display order.
var MappedFields = []string{"name", "kind", "title", "department", "organisation", "sip", "h323", "e164", "tel", "mobile"}

// DefaultMapping fits inetOrgPerson directories (RFC 2798) that keep video
// addresses in labeledURI (RFC 2079), as PROTOCOLS.md §6 describes.
func DefaultMapping() Mapping {
	return Mapping{
		"name":         "$displayName$",
		"kind":         "$employeeType$",
		"title":        "$title$",
		"department":   "$departmentNumber$",
		"organisation": "$o$",
		"sip":          "$labeledURI:sip$",
		"h323":         "$labeledURI:h323$",
		"e164":         "",
		"tel":          "$telephoneNumber$",
		"mobile":       "$mobile$",
	}
}

// Preset is a ready-made source configuration offered by the admin pages.
type Preset struct {
	Name         string
	Mapping      Mapping
	Filter       string
	KeyAttribute string
}

// Presets returns the configurations the admin pages offer.
func Presets() []Preset {
	return []Preset{
		{Name: "inetOrgPerson", Mapping: DefaultMapping(), Filter: "(&(objectClass=inetOrgPerson)(labeledURI=*))", KeyAttribute: "entryUUID"},
		{Name: "Active Directory", Mapping: ActiveDirectoryMapping(),
			// People who are enabled users (userAccountControl bit 2 is "disabled").
			Filter:       "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
			KeyAttribute: "objectGUID"},
	}
}

// ActiveDirectoryMapping fits Active Directory with Skype for Business / Teams
// attributes: the SIP address in msRTCSIP-PrimaryUserAddress ("sip:…").
func ActiveDirectoryMapping() Mapping {
	return Mapping{
		"name":         "$displayName$",
		"kind":         "",
		"title":        "$title$",
		"department":   "$department$",
		"organisation": "$company$",
		"sip":          "$msRTCSIP-PrimaryUserAddress:sip$",
		"h323":         "",
		"e164":         "$ipPhone$",
		"tel":          "$telephoneNumber$",
		"mobile":       "$mobile$",
	}
}

// WithDefaults returns the default mapping with m's fields over it.
func (m Mapping) WithDefaults(def Mapping) Mapping {
	out := Mapping{}
	for k, v := range def {
		out[k] = v
	}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// compiledMapping is a Mapping with parsed templates.
type compiledMapping struct {
	fields map[string]*Template
}

// Compile parses every template; an unknown field or a template that does not
// parse is an error naming the field (and, in a *TemplateError, the position).
func (m Mapping) Compile() (*compiledMapping, error) {
	c := &compiledMapping{fields: map[string]*Template{}}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(MappedFields, k) {
			return nil, invalid("unknown mapped field %q (known: %s)", k, strings.Join(MappedFields, ", "))
		}
		t, err := ParseTemplate(m[k])
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", k, err)
		}
		c.fields[k] = t
	}
	if t := c.fields["name"]; t == nil || t.Empty() {
		return nil, invalid("the mapping needs a name")
	}
	return c, nil
}

// attributes returns the lower-case attributes the mapping reads.
func (c *compiledMapping) attributes() []string {
	var out []string
	for _, t := range c.fields {
		for _, a := range t.Attributes() {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out
}

// FolderMapping says which folder an entry goes to.
type FolderMapping struct {
	// Mode is "none" (the root), "ou" (the path of RDN values between Root and
	// the entry: "People/Oslo") or "attr" (the first value of Attr).
	Mode string `json:"mode"`
	Root string `json:"root,omitempty"`
	Attr string `json:"attr,omitempty"`
}

// ParseFolderMapping parses the CLI's form: "" or "none", "ou:ROOT_DN",
// "attr:NAME".
func ParseFolderMapping(s string) (FolderMapping, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" || s == "none":
		return FolderMapping{Mode: "none"}, nil
	case strings.HasPrefix(s, "ou:"):
		f := FolderMapping{Mode: "ou", Root: strings.TrimSpace(s[3:])}
		return f, f.Validate()
	case strings.HasPrefix(s, "attr:"):
		f := FolderMapping{Mode: "attr", Attr: strings.TrimSpace(s[5:])}
		return f, f.Validate()
	}
	return FolderMapping{}, invalid("folder mapping %q: want none, ou:ROOT_DN or attr:NAME", s)
}

// Validate checks the root DN or attribute name.
func (f FolderMapping) Validate() error {
	switch f.Mode {
	case "none", "":
		return nil
	case "ou":
		if _, err := ldap.ParseDN(f.Root); err != nil || f.Root == "" {
			return invalid("folder root %q is not a DN", f.Root)
		}
		return nil
	case "attr":
		if f.Attr == "" || !isAlpha(f.Attr[0]) || strings.IndexFunc(f.Attr, func(r rune) bool { return r > 0x7f || !isAttrChar(byte(r)) }) >= 0 {
			return invalid("folder attribute %q is not an attribute name", f.Attr)
		}
		return nil
	}
	return invalid("unknown folder mode %q", f.Mode)
}

// String is the CLI's form.
func (f FolderMapping) String() string {
	switch f.Mode {
	case "ou":
		return "ou:" + f.Root
	case "attr":
		return "attr:" + f.Attr
	}
	return "none"
}

// mapKind turns the value of the kind template into a Kind: anything naming a
// room ("MeetingRoom", "room") is a room; an endpoint, device or system is an
// endpoint; the rest are people.
func mapKind(v string) Kind {
	l := strings.ToLower(v)
	switch {
	case strings.Contains(l, "room"):
		return KindRoom
	case strings.Contains(l, "endpoint"), strings.Contains(l, "device"), strings.Contains(l, "system"):
		return KindEndpoint
	}
	return KindPerson
}
