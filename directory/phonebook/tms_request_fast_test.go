package phonebook

import (
	"os"
	"path/filepath"
	"testing"
)

var fastCases = []string{
	`<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="` + SOAPEnvelopeNS + `"><s:Header><x>1</x></s:Header><s:Body>` +
		`<Search xmlns="` + TMSNS + `"><SearchString>Ø &amp; &#229;&#x3B1; &lt;b&gt;</SearchString><MaxResult> 7 </MaxResult>` +
		`<Identification><SystemName>Room <i>x</i>1</SystemName><MACAddress>AA:BB</MACAddress></Identification></Search></s:Body></s:Envelope>`,
	`<soap:Envelope xmlns:soap="` + SOAPEnvelopeNS + `"><soap:Body><t:GetPhonebooks xmlns:t="` + TMSNS + `"><t:SystemIdentifier>` +
		`<t:SerialNumber>S</t:SerialNumber></t:SystemIdentifier><Routing>None</Routing></t:GetPhonebooks><after/></soap:Body></soap:Envelope>`,
	`<Envelope xmlns="` + SOAPEnvelopeNS + `"><Body><Search xmlns="` + TMSNS + `"/></Body></Envelope>`,
	`<Envelope xmlns="` + SOAPEnvelopeNS + `"><Body><Search xmlns="` + TMSNS + `"><SearchPath/><SearchPath>c_2</SearchPath></Search></Body></Envelope>`,
	`<Envelope xmlns="` + SOAPEnvelopeNS + `"><Body></Body></Envelope>`,
	`<Envelope xmlns="` + SOAPEnvelopeNS + `"><Body><Other xmlns="` + TMSNS + `"/></Body></Envelope>`,
	`<Envelope xmlns="` + SOAPEnvelopeNS + `"><Body><Search xmlns="` + TMSNS + `"><MaxResult>x</MaxResult></Search></Body></Envelope>`,
	`<Envelope xmlns="` + SOAPEnvelopeNS + `"><Body><Search xmlns="` + TMSNS + `"><SearchString>a</SearchStrin></Search></Body></Envelope>`,
	`<Envelope xmlns="` + SOAPEnvelopeNS + `"><Body><Search xmlns="` + TMSNS + `"><SearchString>&#0;</SearchString></Search></Body></Envelope>`,
	`<Envelope xmlns="` + SOAPEnvelopeNS + `" a='1' b = "2" ><Body ><Search xmlns="` + TMSNS + `" ><SearchString>\t&#9;x</SearchString ></Search></Body></Envelope >` + "\n",
}

// fastSeeds are the real requests and the cases above.
func fastSeeds(t testing.TB) [][]byte {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "soap", "requests", "*.xml"))
	var out [][]byte
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	for _, c := range fastCases {
		out = append(out, []byte(c))
	}
	return out
}

// checkFast holds fastParse to encoding/xml's parse: whatever it takes, the
// decoder takes too, with the same request.
func checkFast(t *testing.T, body []byte, action string) bool {
	t.Helper()
	got, ok := fastParse(body, action)
	if !ok {
		return false
	}
	want, err := parseTMSRequest(body, action)
	if err != nil {
		t.Fatalf("fastParse took %q, which encoding/xml refuses: %v", body, err)
	}
	if got != want {
		t.Fatalf("%q:\nfastParse %+v\n  decoder %+v", body, got, want)
	}
	return true
}

// TestFastParseTakesTheRealRequests: every real request goes the fast way,
// with or without a SOAPAction, and gives what encoding/xml gives; the
// cases it must leave to the decoder are left to it.
func TestFastParseTakesTheRealRequests(t *testing.T) {
	for _, b := range fastSeeds(t)[:7] {
		for _, action := range []string{"", OpSearch, OpGetPhonebooks} {
			want, err := parseTMSRequest(b, action)
			if took := checkFast(t, b, action); took != (err == nil) {
				t.Errorf("%.60q action %q: fast path took it %v, the decoder's error %v (%+v)", b, action, took, err, want)
			}
		}
	}
	for i, c := range fastCases {
		took := checkFast(t, []byte(c), "")
		if want := i < 4 || i == 9; took != want {
			t.Errorf("case %d: fast path took it %v, want %v", i, took, want)
		}
	}
}

// FuzzFastParseMatchesDecoder is checkFast on arbitrary bodies.
func FuzzFastParseMatchesDecoder(f *testing.F) {
	for _, b := range fastSeeds(f) {
		f.Add(b, "")
		f.Add(b, OpSearch)
	}
	f.Fuzz(func(t *testing.T, body []byte, action string) { checkFast(t, body, action) })
}
