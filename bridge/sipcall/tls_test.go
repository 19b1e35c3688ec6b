package sipcall

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// selfSigned is a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestSIPOverTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, func(c *Config) {
		c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		c.TLSAddr = "127.0.0.1:0"
	})
	tlsPort := s.TLSAddr().(*net.TCPAddr).Port
	ua, err := sipgo.NewUA(sipgo.WithUserAgenTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	caller := newTestUA(t)
	tests := []struct {
		name    string
		uri     sip.Uri
		contact string // the start of our Contact URI
		param   string // a parameter it must carry, "" for none
	}{
		{"a SIPS request URI gets a SIPS Contact on the TLS port, without transport=tls (RFC 5630 §3.2)",
			sip.Uri{Scheme: "sips", User: "1234", Host: "127.0.0.1", Port: tlsPort}, "sips:127.0.0.1:", ""},
		{"a SIP URI over TLS gets a Contact with transport=tls on the TLS port",
			sip.Uri{Scheme: "sip", User: "1234", Host: "127.0.0.1", Port: tlsPort, UriParams: tlsParams()}, "sip:127.0.0.1:", "transport=tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := sip.NewRequest(sip.INVITE, tt.uri)
			req.SetTransport("TLS")
			req.SetBody(caller.defaultOffer())
			req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: tt.uri.Scheme, User: "caller", Host: "127.0.0.1", Port: caller.port}})
			res, err := client.Do(caller.ctx(), req)
			if err != nil {
				t.Fatalf("INVITE over TLS: %v", err)
			}
			if res.StatusCode != 200 {
				t.Fatalf("INVITE over TLS = %d %s", res.StatusCode, res.Reason)
			}
			contact := res.Contact().Address
			got := contact.String()
			if !strings.HasPrefix(got, tt.contact) || contact.Port != tlsPort {
				t.Errorf("Contact %s; want %s…:%d", got, tt.contact, tlsPort)
			}
			if tt.param != "" && !strings.Contains(got, tt.param) || tt.param == "" && strings.Contains(got, "transport=") {
				t.Errorf("Contact %s; want parameter %q", got, tt.param)
			}
			waitFor(t, "the TLS caller admitted", func() bool { return rooms.last() != nil })
			if got := rooms.last().leg.Info().Transport; got != "tls" {
				t.Errorf("leg transport %q, want tls", got)
			}
		})
	}
}

// tlsParams is the URI parameter transport=tls.
func tlsParams() sip.HeaderParams {
	p := sip.NewParams()
	p.Add("transport", "tls")
	return p
}
