package phonebook

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"
)

// reflectDecode is what tmsBody.decode replaces: encoding/xml's reflective
// DecodeElement on the operation element.
func reflectDecode(body []byte) (tmsBody, error) {
	var b tmsBody
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return b, err
		}
		if s, ok := tok.(xml.StartElement); ok && (s.Name.Local == OpSearch || s.Name.Local == OpGetPhonebooks) {
			return b, d.DecodeElement(&b, &s)
		}
	}
}

func handDecode(body []byte) (tmsBody, error) {
	var b tmsBody
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return b, err
		}
		if s, ok := tok.(xml.StartElement); ok && (s.Name.Local == OpSearch || s.Name.Local == OpGetPhonebooks) {
			return b, b.decode(d)
		}
	}
}

var decodeCases = []string{
	`<Search><SearchString>a<b>inner</b>c<![CDATA[<d>]]></SearchString><SearchString>last</SearchString></Search>`,
	`<Search xmlns:x="urn:x"><x:SearchPath>c_1</x:SearchPath><Identification><SystemName> Room &amp; 1 </SystemName><Deep><SystemName>no</SystemName></Deep></Identification><Identification><MACAddress>AA</MACAddress></Identification></Search>`,
	`<GetPhonebooks><SystemIdentifier><SerialNumber>S1</SerialNumber><SWVersion>ce11</SWVersion></SystemIdentifier><Unknown><MaxResult>9</MaxResult></Unknown><MaxResult>5</MaxResult></GetPhonebooks>`,
	`<Search><SearchString>open`,
	`<Search><RangeInclusive>true</RangeInclusive><StartFromId>e_1</StartFromId><EndAtId>e_2</EndAtId><!-- c --><?pi x?></Search>`,
}

// TestDecodeMatchesEncodingXML holds the hand-written decoder to
// DecodeElement's result on the real requests and on the corners of
// unmarshalling (nested elements, CDATA, repeats, namespaces).
func TestDecodeMatchesEncodingXML(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "soap", "requests", "*.xml"))
	if len(files) == 0 {
		t.Fatal("no SOAP requests in the fixtures")
	}
	var bodies [][]byte
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)
	}
	for _, c := range decodeCases {
		bodies = append(bodies, []byte(c))
	}
	for _, body := range bodies {
		want, werr := reflectDecode(body)
		got, gerr := handDecode(body)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Errorf("%.80q: error %v, DecodeElement %v", body, gerr, werr)
			continue
		}
		if got != want {
			t.Errorf("%.80q:\n got %+v\nwant %+v", body, got, want)
		}
	}
}

// FuzzDecodeMatchesEncodingXML is TestDecodeMatchesEncodingXML on arbitrary
// bodies.
func FuzzDecodeMatchesEncodingXML(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "soap", "requests", "*.xml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		want, werr := reflectDecode(body)
		got, gerr := handDecode(body)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("error %v, DecodeElement %v", gerr, werr)
		}
		if werr == nil && got != want {
			t.Fatalf("\n got %+v\nwant %+v", got, want)
		}
	})
}
