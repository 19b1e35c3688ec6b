package pbldap

import (
	"bufio"
	"fmt"
	"io"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// message is one LDAPMessage (RFC 4511 §4.2) as received.
type message struct {
	id       int64
	op       *ber.Packet
	controls []ldap.Control
	// critical lists the OIDs of critical controls this server does not
	// support (RFC 4511 §4.1.11).
	critical []string
}

// readMessage reads one LDAPMessage. The length is checked before the body is
// read, so a peer announcing a huge message costs nothing. LDAP allows only
// the definite length form (RFC 4511 §5.1).
func readMessage(r *bufio.Reader, maxBytes int) (*ber.Packet, error) {
	hdr, err := r.Peek(2)
	if err != nil {
		return nil, err
	}
	if hdr[0] != 0x30 { // universal, constructed, SEQUENCE
		return nil, fmt.Errorf("%w: not a SEQUENCE (0x%02x)", errMalformed, hdr[0])
	}
	length, hlen := int(hdr[1]), 2
	if length&0x80 != 0 {
		n := length & 0x7f
		if n == 0 {
			return nil, fmt.Errorf("%w: indefinite length", errMalformed)
		}
		if n > 4 {
			return nil, errTooLarge
		}
		hdr, err = r.Peek(2 + n)
		if err != nil {
			return nil, err
		}
		length = 0
		for _, b := range hdr[2:] {
			length = length<<8 | int(b)
		}
		hlen += n
	}
	if length > maxBytes {
		return nil, errTooLarge
	}
	buf := make([]byte, hlen+length)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	p, err := ber.DecodePacketErr(buf)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	return p, nil
}

// parseMessage checks the LDAPMessage envelope and decodes its controls.
func parseMessage(p *ber.Packet) (*message, error) {
	if len(p.Children) < 2 {
		return nil, fmt.Errorf("%w: envelope has %d parts", errMalformed, len(p.Children))
	}
	id, ok := intOf(p.Children[0])
	if !ok || id < 0 {
		return nil, fmt.Errorf("%w: message ID", errMalformed)
	}
	m := &message{id: id, op: p.Children[1]}
	if m.op.ClassType != ber.ClassApplication {
		return nil, fmt.Errorf("%w: protocolOp is not an application tag", errMalformed)
	}
	if len(p.Children) > 2 {
		c := p.Children[2]
		if c.ClassType != ber.ClassContext || c.Tag != 0 || c.TagType != ber.TypeConstructed {
			return nil, fmt.Errorf("%w: controls", errMalformed)
		}
		for _, cp := range c.Children {
			// Control ::= SEQUENCE { controlType LDAPOID, criticality
			// BOOLEAN DEFAULT FALSE, controlValue OCTET STRING OPTIONAL }
			if len(cp.Children) == 0 || len(cp.Children) > 3 {
				return nil, fmt.Errorf("%w: control", errMalformed)
			}
			oid, ok := stringOf(cp.Children[0])
			if !ok {
				return nil, fmt.Errorf("%w: control type", errMalformed)
			}
			if oid != ldap.ControlTypePaging {
				if len(cp.Children) > 1 {
					if crit, ok := boolOf(cp.Children[1]); ok && crit {
						m.critical = append(m.critical, oid)
					}
				}
				continue
			}
			ctrl, err := ldap.DecodeControl(cp)
			if err != nil {
				return nil, fmt.Errorf("%w: paging control: %v", errMalformed, err)
			}
			m.controls = append(m.controls, ctrl)
		}
	}
	return m, nil
}

// intOf returns the value of a universal INTEGER or ENUMERATED.
func intOf(p *ber.Packet) (int64, bool) {
	if p == nil || p.ClassType != ber.ClassUniversal || p.TagType != ber.TypePrimitive ||
		(p.Tag != ber.TagInteger && p.Tag != ber.TagEnumerated) {
		return 0, false
	}
	v, ok := p.Value.(int64)
	return v, ok
}

// stringOf returns the content of a primitive packet of any class: an
// OCTET STRING or a context-tagged string.
func stringOf(p *ber.Packet) (string, bool) {
	if p == nil || p.TagType != ber.TypePrimitive || p.Data == nil {
		return "", false
	}
	return p.Data.String(), true
}

// boolOf returns the value of a universal BOOLEAN.
func boolOf(p *ber.Packet) (bool, bool) {
	if p == nil || p.ClassType != ber.ClassUniversal || p.Tag != ber.TagBoolean {
		return false, false
	}
	v, ok := p.Value.(bool)
	return v, ok
}

func octets(s string) *ber.Packet {
	return ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, s, "")
}

// envelope wraps a protocolOp into an LDAPMessage.
func envelope(id int64, op *ber.Packet, controls ...ldap.Control) *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, ""))
	p.AppendChild(op)
	if len(controls) > 0 {
		c := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "")
		for _, ctrl := range controls {
			c.AppendChild(ctrl.Encode())
		}
		p.AppendChild(c)
	}
	return p
}

// result is an LDAPResult (RFC 4511 §4.1.9) under the given application tag.
func result(app ber.Tag, code uint16, matchedDN, diag string) *ber.Packet {
	p := ber.Encode(ber.ClassApplication, ber.TypeConstructed, app, nil, "")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(code), ""))
	p.AppendChild(octets(matchedDN))
	p.AppendChild(octets(diag))
	return p
}

// responseTag is the response application tag of a request's; false for
// requests without a response (unbind, abandon) and unknown ones.
func responseTag(req ber.Tag) (ber.Tag, bool) {
	switch req {
	case ldap.ApplicationBindRequest:
		return ldap.ApplicationBindResponse, true
	case ldap.ApplicationSearchRequest:
		return ldap.ApplicationSearchResultDone, true
	case ldap.ApplicationModifyRequest:
		return ldap.ApplicationModifyResponse, true
	case ldap.ApplicationAddRequest:
		return ldap.ApplicationAddResponse, true
	case ldap.ApplicationDelRequest:
		return ldap.ApplicationDelResponse, true
	case ldap.ApplicationModifyDNRequest:
		return ldap.ApplicationModifyDNResponse, true
	case ldap.ApplicationCompareRequest:
		return ldap.ApplicationCompareResponse, true
	case ldap.ApplicationExtendedRequest:
		return ldap.ApplicationExtendedResponse, true
	}
	return 0, false
}

// oidNoticeOfDisconnection is the responseName of the unsolicited notice a
// server sends before it closes a connection (RFC 4511 §4.4.1).
const oidNoticeOfDisconnection = "1.3.6.1.4.1.1466.20036"

// noticeOfDisconnection is the unsolicited notification (message ID 0).
func noticeOfDisconnection(code uint16, diag string) *ber.Packet {
	op := result(ldap.ApplicationExtendedResponse, code, "", diag)
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 10, oidNoticeOfDisconnection, ""))
	return envelope(0, op)
}

// attribute is one attribute of an entry to send.
type attribute struct {
	name   string
	values []string
}
