package pbldap

import (
	"math/bits"
	"slices"
	"strings"

	"github.com/bifrost-video/bifrost/directory"
)

// matchRule is how values of an attribute compare.
type matchRule uint8

const (
	// ruleIgnore: caseIgnoreMatch and caseIgnoreSubstringsMatch (RFC 4517
	// §4.2.11, §4.2.13): case and insignificant spaces ignored.
	ruleIgnore matchRule = iota
	// ruleTel: telephoneNumberMatch (RFC 4517 §4.2.29): also spaces and
	// hyphens ignored, so +4721991001 finds "+47 21 99 10 01".
	ruleTel
	// ruleExact: caseExactMatch without a substrings rule, like labeledURI in
	// OpenLDAP's inetorgperson.schema: a substring filter is Undefined.
	ruleExact
	// ruleOID: objectIdentifierMatch on descriptors; no substrings.
	ruleOID
)

// attrDef is an attribute type the server knows.
type attrDef struct {
	name string // canonical name, as sent
	rule matchRule
	bit  attrSet // its member of an attrSet
}

// attrSet is a set of the attribute types below.
type attrSet uint32

// allAttrs holds every attribute type.
const allAttrs = ^attrSet(0)

func (s attrSet) has(d *attrDef) bool { return s&d.bit != 0 }

// The attribute types of the tree (RFC 4519, RFC 2798 inetOrgPerson, RFC 2079
// labeledURI, RFC 3944–3946 H.350) and the Active Directory names Poly
// endpoints read (PROTOCOLS.md §2).
var (
	atObjectClass     = &attrDef{name: "objectClass", rule: ruleOID}
	atCN              = &attrDef{name: "cn", rule: ruleIgnore}
	atDisplayName     = &attrDef{name: "displayName", rule: ruleIgnore}
	atSN              = &attrDef{name: "sn", rule: ruleIgnore}
	atGivenName       = &attrDef{name: "givenName", rule: ruleIgnore}
	atUID             = &attrDef{name: "uid", rule: ruleIgnore}
	atMail            = &attrDef{name: "mail", rule: ruleIgnore}
	atTelephoneNumber = &attrDef{name: "telephoneNumber", rule: ruleTel}
	atMobile          = &attrDef{name: "mobile", rule: ruleTel}
	atTitle           = &attrDef{name: "title", rule: ruleIgnore}
	atDepartment      = &attrDef{name: "department", rule: ruleIgnore}
	atOU              = &attrDef{name: "ou", rule: ruleIgnore}
	atO               = &attrDef{name: "o", rule: ruleIgnore}
	atLabeledURI      = &attrDef{name: "labeledURI", rule: ruleExact}
	atCommURI         = &attrDef{name: "commURI", rule: ruleIgnore}
	atCommUniqueID    = &attrDef{name: "commUniqueId", rule: ruleIgnore}
	atSIPURI          = &attrDef{name: "SIPIdentitySIPURI", rule: ruleIgnore}
	atSIPUserName     = &attrDef{name: "SIPIdentityUserName", rule: ruleIgnore}
	atH323ID          = &attrDef{name: "h323Identityh323-ID", rule: ruleIgnore}
	atH323URL         = &attrDef{name: "h323IdentityURL-ID", rule: ruleIgnore}
	atH323Digits      = &attrDef{name: "h323IdentitydialedDigits", rule: ruleTel}
	atMSRTCSIP        = &attrDef{name: "msRTCSIP-PrimaryUserAddress", rule: ruleIgnore}
	atNamingContexts  = &attrDef{name: "namingContexts", rule: ruleIgnore}
	atSupportedLDAP   = &attrDef{name: "supportedLDAPVersion", rule: ruleIgnore}
	atSupportedCtrl   = &attrDef{name: "supportedControl", rule: ruleOID}
	atSupportedExt    = &attrDef{name: "supportedExtension", rule: ruleOID}
	atVendorName      = &attrDef{name: "vendorName", rule: ruleIgnore}
)

// schema finds an attribute type by any of its names, lower case.
var schema = func() map[string]*attrDef {
	m := map[string]*attrDef{}
	for _, d := range []*attrDef{atObjectClass, atCN, atDisplayName, atSN, atGivenName, atUID, atMail,
		atTelephoneNumber, atMobile, atTitle, atDepartment, atOU, atO, atLabeledURI, atCommURI, atCommUniqueID,
		atSIPURI, atSIPUserName, atH323ID, atH323URL, atH323Digits, atMSRTCSIP,
		atNamingContexts, atSupportedLDAP, atSupportedCtrl, atSupportedExt, atVendorName} {
		m[strings.ToLower(d.name)] = d
		d.bit = 1 << len(m) // at most 31 types: len(m) < 32 here
	}
	for alias, d := range map[string]*attrDef{
		"commonname": atCN, "surname": atSN, "gn": atGivenName, "userid": atUID, "rfc822mailbox": atMail,
		"mobiletelephonenumber": atMobile, "organizationalunitname": atOU, "organizationname": atO,
		"2.5.4.0": atObjectClass, "2.5.4.3": atCN, "2.5.4.4": atSN, "2.5.4.42": atGivenName,
		"0.9.2342.19200300.100.1.1": atUID, "0.9.2342.19200300.100.1.3": atMail, "2.5.4.20": atTelephoneNumber,
		"2.5.4.12": atTitle, "2.5.4.11": atOU, "2.5.4.10": atO, "2.16.840.1.113730.3.1.241": atDisplayName,
	} {
		m[alias] = d
	}
	return m
}()

// lookupAttr returns the attribute type named n (any case, without options).
func lookupAttr(n string) *attrDef { return schema[strings.ToLower(n)] }

// value is one attribute of an entry being built.
type value struct {
	def    *attrDef
	values []string
}

// ldapEntry is an entry as the server sends it.
type ldapEntry struct {
	dn    string
	attrs []value
}

func (e *ldapEntry) add(d *attrDef, vs ...string) {
	keep := vs
	if slices.Contains(vs, "") {
		keep = nil
		for _, v := range vs {
			if v != "" {
				keep = append(keep, v)
			}
		}
	}
	if len(keep) == 0 {
		return
	}
	if len(vs) == 1 {
		keep = vs[:1:1] // the caller's one-value slice: own it, so that appends copy
	}
	for i := range e.attrs {
		if e.attrs[i].def == d {
			e.attrs[i].values = append(e.attrs[i].values, keep...)
			return
		}
	}
	e.attrs = append(e.attrs, value{def: d, values: keep})
}

func (e *ldapEntry) get(d *attrDef) []string {
	for i := range e.attrs {
		if e.attrs[i].def == d {
			return e.attrs[i].values
		}
	}
	return nil
}

// personEntry is the LDAP view of a published directory entry.
//
// Choices: cn and displayName are the entry's name; sn and givenName are
// derived from it ("Berg, Marius" and "Marius Berg" both give sn Berg,
// givenName Marius; a trailing "(…)" is dropped; a room or a one-word name is
// its own sn); mail is the SIP address when it has the user@domain form;
// labeledURI carries "sip:… SIP" and "h323:… H323" as in the fixture
// directory; department is sent as department and ou.
func personEntry(dn string, e *directory.Entry) *ldapEntry { return personAttrs(dn, e, allAttrs) }

// personAttrs is personEntry with only the attribute types of need (and
// objectClass): enough to evaluate a filter on need's types without the
// cost of the others.
func personAttrs(dn string, e *directory.Entry, need attrSet) *ldapEntry {
	out := &ldapEntry{dn: dn, attrs: make([]value, 0, min(20, bits.OnesCount32(uint32(need))+1))}
	var sips, h323s, digits, phones, mobiles []string
	for _, a := range e.Addresses {
		switch a.Kind {
		case directory.AddressSIP:
			sips = append(sips, a.Value)
		case directory.AddressH323:
			h323s = append(h323s, a.Value)
		case directory.AddressE164:
			digits = append(digits, a.Value)
		case directory.AddressTel:
			if a.Label == "mobile" {
				mobiles = append(mobiles, a.Value)
			} else {
				phones = append(phones, a.Value)
			}
		}
	}
	classes := []string{"top", "person", "organizationalPerson", "inetOrgPerson", "commObject"}
	if len(sips) > 0 {
		classes = append(classes, "SIPIdentity")
	}
	if len(h323s)+len(digits) > 0 {
		classes = append(classes, "h323Identity")
	}
	out.add(atObjectClass, classes...)
	add := func(d *attrDef, vs ...string) {
		if need.has(d) {
			out.add(d, vs...)
		}
	}
	add(atUID, e.ID)
	add(atCN, e.DisplayName)
	add(atDisplayName, e.DisplayName)
	if need.has(atSN) || need.has(atGivenName) {
		given, sn := splitName(e.DisplayName, e.Kind)
		add(atSN, sn)
		add(atGivenName, given)
	}
	add(atTitle, e.Title)
	add(atDepartment, e.Department)
	add(atOU, e.Department)
	add(atO, e.OrganisationName)
	if need&(atMail.bit|atLabeledURI.bit|atCommURI.bit|atSIPURI.bit|atMSRTCSIP.bit) != 0 {
		for _, s := range sips {
			uri, user := sipURI(s)
			if strings.Contains(user, "@") {
				add(atMail, user)
			}
			if need.has(atLabeledURI) {
				add(atLabeledURI, uri+" SIP")
			}
			add(atCommURI, uri)
			add(atSIPURI, uri)
			add(atMSRTCSIP, uri)
		}
	}
	if need&(atLabeledURI.bit|atCommURI.bit|atH323ID.bit|atH323URL.bit) != 0 {
		for _, h := range h323s {
			add(atLabeledURI, "h323:"+h+" H323")
			add(atCommURI, "h323:"+h)
			add(atH323ID, h)
			add(atH323URL, "h323:"+h)
		}
	}
	add(atH323Digits, digits...)
	add(atTelephoneNumber, phones...)
	add(atMobile, mobiles...)
	add(atCommUniqueID, e.ID)
	return out
}

// sipURI returns a SIP address as a URI and without its scheme.
func sipURI(v string) (uri, user string) {
	l := strings.ToLower(v)
	switch {
	case strings.HasPrefix(l, "sip:"):
		return v, v[4:]
	case strings.HasPrefix(l, "sips:"):
		return v, v[5:]
	}
	return "sip:" + v, v
}

// splitName derives givenName and sn from a display name.
func splitName(name string, kind directory.Kind) (given, sn string) {
	n := strings.TrimSpace(name)
	if i := strings.LastIndex(n, " ("); i > 0 && strings.HasSuffix(n, ")") {
		n = strings.TrimSpace(n[:i])
	}
	if kind != directory.KindPerson {
		return "", n
	}
	if last, first, ok := strings.Cut(n, ","); ok && strings.TrimSpace(first) != "" {
		return strings.TrimSpace(first), strings.TrimSpace(last)
	}
	if i := strings.LastIndexByte(n, ' '); i > 0 {
		return strings.TrimSpace(n[:i]), n[i+1:]
	}
	return "", n
}

// folderEntry is the LDAP view of a folder.
func folderEntry(dn, name string) *ldapEntry {
	out := &ldapEntry{dn: dn}
	out.add(atObjectClass, "top", "organizationalUnit")
	out.add(atOU, name)
	return out
}

// selection is the attribute list of a search request (RFC 4511 §4.5.1.8).
type selection struct {
	all   bool
	attrs []*attrDef
}

func newSelection(req []string) selection {
	if len(req) == 0 {
		return selection{all: true}
	}
	var s selection
	for _, a := range req {
		switch a {
		case "*":
			s.all = true
		case "1.1", "+":
			// 1.1: no attributes; +: operational attributes, of which
			// these entries have none.
		default:
			if d := lookupAttr(a); d != nil {
				s.attrs = append(s.attrs, d)
			}
		}
	}
	return s
}

// pick returns the attributes of e that s selects.
func (s selection) pick(e *ldapEntry) []attribute {
	out := make([]attribute, 0, len(e.attrs))
	for _, v := range e.attrs {
		if s.all || containsDef(s.attrs, v.def) {
			out = append(out, attribute{name: v.def.name, values: v.values})
		}
	}
	return out
}

func containsDef(ds []*attrDef, d *attrDef) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}
