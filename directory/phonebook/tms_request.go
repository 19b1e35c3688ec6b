package phonebook

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The XML namespaces of the TMS phonebook service (PROTOCOLS.md §1.2).
const (
	SOAPEnvelopeNS = "http://schemas.xmlsoap.org/soap/envelope/"
	TMSNS          = "http://www.tandberg.net/2004/06/PhoneBookSearch/"
)

// The TMS operations the service answers (PROTOCOLS.md §1.3).
const (
	OpSearch        = "Search"
	OpGetPhonebooks = "GetPhonebooks"
)

// MaxSOAPBody is the largest SOAP request accepted; a Search is well under
// 2 KiB.
const MaxSOAPBody = 64 << 10

// maxField bounds every text field kept from a request (logged, searched).
const maxField = 255

// Identification is how a Cisco endpoint names itself in a request
// (PROTOCOLS.md §1.4); every field is optional.
type Identification struct {
	SystemName   string `xml:"SystemName"`
	MACAddress   string `xml:"MACAddress"`
	IPAddress    string `xml:"IPAddress"`
	IPAddressV6  string `xml:"IPAddressV6"`
	ProductType  string `xml:"ProductType"`
	ProductID    string `xml:"ProductID"`
	SWVersion    string `xml:"SWVersion"`
	HWBoard      string `xml:"HWBoard"`
	SerialNumber string `xml:"SerialNumber"`
}

// TMSRequest is a parsed TMS phonebook request: a Search or a GetPhonebooks.
type TMSRequest struct {
	Operation      string
	Identification Identification
	// Search parameters (PROTOCOLS.md §1.4); zero for GetPhonebooks.
	CaseSensitive bool
	SearchPath    string
	SearchString  string
	SearchType    string
	Scope         string
	MaxResult     int
	StartFromID   string
	EndAtID       string
	Inclusive     bool
}

// tmsBody is the operation element as decoded: Search and GetPhonebooks
// share it (GetPhonebooks names its identification SystemIdentifier).
type tmsBody struct {
	Identification      Identification `xml:"Identification"`
	SystemIdentifier    Identification `xml:"SystemIdentifier"`
	CaseSensitiveSearch string         `xml:"CaseSensitiveSearch"`
	SearchPath          string         `xml:"SearchPath"`
	SearchString        string         `xml:"SearchString"`
	SearchType          string         `xml:"SearchType"`
	Scope               string         `xml:"Scope"`
	MaxResult           string         `xml:"MaxResult"`
	StartFromID         string         `xml:"StartFromId"`
	EndAtID             string         `xml:"EndAtId"`
	RangeInclusive      string         `xml:"RangeInclusive"`
}

// decode reads the operation element's content, after its start element,
// into b as xml.Decoder.DecodeElement would (a field is its element's own
// character data, matched by local name in any namespace; a repeated
// element's last value wins; other elements are skipped), without
// reflection: this runs for every request.
func (b *tmsBody) decode(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			switch t.Name.Local {
			case "Identification":
				err = b.Identification.decode(d)
			case "SystemIdentifier":
				err = b.SystemIdentifier.decode(d)
			default:
				err = decodeText(d, b.field(t.Name.Local))
			}
			if err != nil {
				return err
			}
		}
	}
}

func (b *tmsBody) field(name string) *string {
	switch name {
	case "CaseSensitiveSearch":
		return &b.CaseSensitiveSearch
	case "SearchPath":
		return &b.SearchPath
	case "SearchString":
		return &b.SearchString
	case "SearchType":
		return &b.SearchType
	case "Scope":
		return &b.Scope
	case "MaxResult":
		return &b.MaxResult
	case "StartFromId":
		return &b.StartFromID
	case "EndAtId":
		return &b.EndAtID
	case "RangeInclusive":
		return &b.RangeInclusive
	}
	return nil
}

// decode is tmsBody.decode for the Identification element.
func (id *Identification) decode(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if err := decodeText(d, id.field(t.Name.Local)); err != nil {
				return err
			}
		}
	}
}

func (id *Identification) field(name string) *string {
	switch name {
	case "SystemName":
		return &id.SystemName
	case "MACAddress":
		return &id.MACAddress
	case "IPAddress":
		return &id.IPAddress
	case "IPAddressV6":
		return &id.IPAddressV6
	case "ProductType":
		return &id.ProductType
	case "ProductID":
		return &id.ProductID
	case "SWVersion":
		return &id.SWVersion
	case "HWBoard":
		return &id.HWBoard
	case "SerialNumber":
		return &id.SerialNumber
	}
	return nil
}

// decodeText reads an element's own character data (text and CDATA, not
// that of elements inside it) into dst, after its start element; a nil dst
// skips the element.
func decodeText(d *xml.Decoder, dst *string) error {
	if dst == nil {
		return d.Skip()
	}
	var text []byte
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text = append(text, t...)
		case xml.StartElement:
			if err := d.Skip(); err != nil {
				return err
			}
		case xml.EndElement:
			*dst = string(text)
			return nil
		}
	}
}

// SOAPActionOperation returns the operation a SOAPAction header names, with
// or without quotes ("" when the header is absent or empty).
func SOAPActionOperation(h string) string {
	h = strings.TrimSpace(h)
	h = strings.TrimSuffix(strings.TrimPrefix(h, `"`), `"`)
	if h == "" {
		return ""
	}
	if i := strings.LastIndexByte(h, '/'); i >= 0 {
		return h[i+1:]
	}
	return h
}

// ParseTMSRequest parses a SOAP 1.1 request body. action is the operation of
// the SOAPAction header ("" when absent: the body's first element decides).
// It parses namespace-aware and never depends on prefixes; it refuses DTDs
// (so no entity tricks), bodies over MaxSOAPBody, unknown operations and an
// action that disagrees with the body. Errors wrap ErrMalformed, ErrTooLarge
// or ErrUnknownOperation.
func ParseTMSRequest(body []byte, action string) (TMSRequest, error) {
	if len(body) > MaxSOAPBody {
		return TMSRequest{}, ErrTooLarge
	}
	if r, ok := fastParse(body, action); ok {
		return r, nil
	}
	return parseTMSRequest(body, action)
}

// parseTMSRequest is ParseTMSRequest with encoding/xml, for every body
// fastParse does not take.
func parseTMSRequest(body []byte, action string) (TMSRequest, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	d.Entity = nil // only the five predefined entities
	// The XML declaration may name utf-8 or nothing else.
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "utf8") {
			return r, nil
		}
		return nil, fmt.Errorf("charset %q is not supported", label)
	}
	depth := 0 // 0 outside, 1 in Envelope, 2 in Body
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return TMSRequest{}, fmt.Errorf("%w: no operation in the SOAP body", ErrMalformed)
		}
		if err != nil {
			return TMSRequest{}, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return TMSRequest{}, fmt.Errorf("%w: a DTD is not allowed", ErrMalformed)
		case xml.StartElement:
			switch depth {
			case 0:
				if t.Name.Space != SOAPEnvelopeNS || t.Name.Local != "Envelope" {
					return TMSRequest{}, fmt.Errorf("%w: not a SOAP 1.1 envelope", ErrMalformed)
				}
				depth = 1
			case 1:
				if t.Name.Space == SOAPEnvelopeNS && t.Name.Local == "Body" {
					depth = 2
				} else if err := d.Skip(); err != nil { // a Header
					return TMSRequest{}, fmt.Errorf("%w: %v", ErrMalformed, err)
				}
			case 2:
				return decodeOperation(d, t, action)
			}
		case xml.EndElement:
			return TMSRequest{}, fmt.Errorf("%w: no operation in the SOAP body", ErrMalformed)
		}
	}
}

func decodeOperation(d *xml.Decoder, start xml.StartElement, action string) (TMSRequest, error) {
	op := start.Name.Local
	if start.Name.Space != TMSNS {
		return TMSRequest{}, fmt.Errorf("%w: %s in namespace %q", ErrUnknownOperation, op, start.Name.Space)
	}
	if op != OpSearch && op != OpGetPhonebooks {
		return TMSRequest{}, fmt.Errorf("%w: %s", ErrUnknownOperation, op)
	}
	if action != "" && action != op {
		return TMSRequest{}, fmt.Errorf("%w: SOAPAction %s but the body holds %s", ErrUnknownOperation, action, op)
	}
	var b tmsBody
	if err := b.decode(d); err != nil {
		return TMSRequest{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	// The rest of the document must be well-formed too.
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return TMSRequest{}, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		if _, ok := tok.(xml.Directive); ok {
			return TMSRequest{}, fmt.Errorf("%w: a DTD is not allowed", ErrMalformed)
		}
	}
	return newTMSRequest(op, b)
}

// newTMSRequest is the request of operation op with body b.
func newTMSRequest(op string, b tmsBody) (TMSRequest, error) {
	id := b.Identification
	if op == OpGetPhonebooks {
		id = b.SystemIdentifier
	}
	r := TMSRequest{
		Operation: op,
		Identification: Identification{
			SystemName: field(id.SystemName), MACAddress: strings.ToLower(field(id.MACAddress)),
			IPAddress: field(id.IPAddress), IPAddressV6: field(id.IPAddressV6), ProductType: field(id.ProductType),
			ProductID: field(id.ProductID), SWVersion: field(id.SWVersion), HWBoard: field(id.HWBoard),
			SerialNumber: field(id.SerialNumber),
		},
		CaseSensitive: parseBool(b.CaseSensitiveSearch),
		SearchPath:    field(b.SearchPath),
		SearchString:  field(b.SearchString),
		SearchType:    field(b.SearchType),
		Scope:         field(b.Scope),
		StartFromID:   field(b.StartFromID),
		EndAtID:       field(b.EndAtID),
		Inclusive:     parseBool(b.RangeInclusive),
	}
	if s := strings.TrimSpace(b.MaxResult); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return TMSRequest{}, fmt.Errorf("%w: MaxResult %q is not a count", ErrMalformed, field(s))
		}
		r.MaxResult = min(n, MaxLimit)
	}
	return r, nil
}

// field trims a text field and bounds its length (on a rune boundary).
func field(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxField {
		return s
	}
	s = s[:maxField]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func parseBool(s string) bool {
	b, _ := strconv.ParseBool(strings.TrimSpace(strings.ToLower(s)))
	return b
}

// IsClientError reports whether err is the client's fault (a SOAP Fault with
// faultcode soap:Client) rather than the server's.
func IsClientError(err error) bool {
	return errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnknownOperation) || errors.Is(err, ErrTooLarge)
}
