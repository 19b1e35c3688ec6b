package directory

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// mappedEntry is an LDAP entry after the mapping: what the directory should hold.
type mappedEntry struct {
	key, dn                               string
	name, title, department, organisation string
	kind                                  Kind
	folder                                string // folder path, "" for the root
	addrs                                 []Address
}

// warnings collects a run's warnings, counted by kind with the first DN as
// an example, so that 10 000 entries without a mobile number make one line.
type warnings struct {
	order []string
	count map[string]int
	first map[string]string
}

func (w *warnings) add(kind, dn string) {
	if w.count == nil {
		w.count, w.first = map[string]int{}, map[string]string{}
	}
	if w.count[kind] == 0 {
		w.order = append(w.order, kind)
		w.first[kind] = dn
	}
	w.count[kind]++
}

func (w *warnings) list() []string {
	out := make([]string, 0, len(w.order))
	for _, k := range w.order {
		if w.count[k] == 1 {
			out = append(out, fmt.Sprintf("%s: %s", k, w.first[k]))
		} else {
			out = append(out, fmt.Sprintf("%s: %d entries (first: %s)", k, w.count[k], w.first[k]))
		}
	}
	return out
}

// mapper turns LDAP records into mapped entries.
type mapper struct {
	src     Source
	m       *compiledMapping
	root    *ldap.DN
	warn    *warnings
	fieldOf []string // mapped fields in a fixed order
	// ouFolders caches the folder path of the entries below a parent DN
	// (folder mode ou): entries of one OU share it, and parsing every DN
	// was a tenth of the sync's Go time.
	ouFolders map[string]string
}

// maxOUFolders bounds mapper.ouFolders; past it, paths are computed afresh.
const maxOUFolders = 4096

func newMapper(src Source, w *warnings) (*mapper, error) {
	cm, err := src.Mapping.WithDefaults(DefaultMapping()).Compile()
	if err != nil {
		return nil, err
	}
	mp := &mapper{src: src, m: cm, warn: w}
	for _, f := range MappedFields {
		if t := cm.fields[f]; t != nil && !t.Empty() {
			mp.fieldOf = append(mp.fieldOf, f)
		}
	}
	if src.Folders.Mode == "ou" {
		if mp.root, err = ldap.ParseDN(src.Folders.Root); err != nil {
			return nil, invalid("folder root %q: %v", src.Folders.Root, err)
		}
	}
	return mp, nil
}

// attributes is the lean attribute list a search asks for.
func (mp *mapper) attributes() []string {
	as := mp.m.attributes()
	as = append(as, strings.ToLower(mp.src.KeyAttribute))
	if mp.src.Folders.Mode == "attr" {
		as = append(as, strings.ToLower(mp.src.Folders.Attr))
	}
	sort.Strings(as)
	return slices.Compact(as)
}

// mapRecord maps one record; ok is false when the entry cannot be stored
// (no key or no name), with a warning.
func (mp *mapper) mapRecord(rec *ldapRecord) (me mappedEntry, ok bool) {
	key, err := rec.key(mp.src.KeyAttribute)
	if err != nil {
		mp.warn.add("skipped, "+err.Error(), rec.dn)
		return me, false
	}
	me.key, me.dn = key, rec.dn
	for _, f := range mp.fieldOf {
		vals, missing := mp.m.fields[f].Eval(rec)
		for _, a := range missing {
			mp.warn.add(fmt.Sprintf("field %s: no value for $%s$", f, a), rec.dn)
		}
		first := ""
		if len(vals) > 0 {
			first = strings.TrimSpace(vals[0])
		}
		switch f {
		case "name":
			me.name = first
		case "kind":
			me.kind = mapKind(first)
		case "title":
			me.title = first
		case "department":
			me.department = first
		case "organisation":
			me.organisation = first
		default:
			kind, label := AddressKind(f), ""
			switch f {
			case "tel":
				label = "phone"
			case "mobile":
				kind, label = AddressTel, "mobile"
			}
			for _, v := range vals {
				if v = strings.TrimSpace(v); v != "" {
					me.addrs = append(me.addrs, Address{Kind: kind, Value: v, Label: label})
				}
			}
		}
	}
	if me.kind == "" {
		me.kind = KindPerson
	}
	if me.name == "" {
		mp.warn.add("skipped, no name", rec.dn)
		return me, false
	}
	me.folder = mp.folderOf(rec)
	return me, true
}

// folderOf returns the folder path of a record under the folder mapping.
func (mp *mapper) folderOf(rec *ldapRecord) string {
	switch mp.src.Folders.Mode {
	case "attr":
		vs := rec.Values(strings.ToLower(mp.src.Folders.Attr))
		if len(vs) == 0 {
			return ""
		}
		return folderName(vs[0])
	case "ou":
		parent, simple := splitSimpleRDN(rec.dn)
		if simple {
			if path, ok := mp.ouFolders[parent]; ok {
				return path
			}
		}
		dn, err := ldap.ParseDN(rec.dn)
		if err != nil || !mp.root.AncestorOfFold(dn) {
			mp.warn.add("outside the folder root, put in the root folder", rec.dn)
			return ""
		}
		// The RDNs between the root and the entry, outermost first.
		rdns := dn.RDNs[1 : len(dn.RDNs)-len(mp.root.RDNs)]
		parts := make([]string, 0, len(rdns))
		for i := len(rdns) - 1; i >= 0; i-- {
			if len(rdns[i].Attributes) > 0 {
				parts = append(parts, folderName(rdns[i].Attributes[0].Value))
			}
		}
		path := strings.Join(parts, "/")
		if simple && len(mp.ouFolders) < maxOUFolders {
			if mp.ouFolders == nil {
				mp.ouFolders = make(map[string]string)
			}
			mp.ouFolders[strings.Clone(parent)] = path
		}
		return path
	}
	return ""
}

// folderName makes an attribute value usable as one folder name.
func folderName(v string) string {
	v = strings.TrimSpace(strings.ReplaceAll(v, "/", "-"))
	if v == "" {
		return "-"
	}
	return v
}

// splitSimpleRDN returns the parent of dn when dn's first RDN is one
// attribute type and value in their plainest form (RFC 4514 §3: a type of
// letters, digits and hyphens; a value without escapes, quotes or special
// characters), which parses whatever follows it. Entries with such an RDN
// and the same parent string sit in the same folder (mapper.ouFolders).
func splitSimpleRDN(dn string) (parent string, ok bool) {
	comma := strings.IndexByte(dn, ',')
	if comma < 0 {
		return "", false
	}
	rdn := dn[:comma]
	eq := strings.IndexByte(rdn, '=')
	if eq < 1 || eq == len(rdn)-1 {
		return "", false
	}
	for i := 0; i < eq; i++ {
		c := rdn[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '-')) {
			return "", false
		}
	}
	v := rdn[eq+1:]
	if v[0] == ' ' || v[0] == '#' || v[len(v)-1] == ' ' || strings.ContainsAny(v, "\\\"+<>;=") {
		return "", false
	}
	return dn[comma+1:], true
}
