package directory

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// testCert returns a self-signed certificate for 127.0.0.1 and its PEM.
func testCert(t testing.TB) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "slapd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// tlsProxy stands in front of a plain-text LDAP server: in ldaps mode it
// speaks TLS from the first byte; in StartTLS mode it answers the client's
// StartTLS request (RFC 4511 §4.14) itself, then speaks TLS. Either way it
// forwards the decrypted stream to the server. record, when set, receives a
// copy of what the server sent.
type tlsProxy struct {
	ln       net.Listener
	upstream string
	startTLS bool
	cfg      *tls.Config
	record   io.Writer
	mu       sync.Mutex
	wg       sync.WaitGroup
}

func newTLSProxy(t testing.TB, upstreamURL string, startTLS bool, cert tls.Certificate) *tlsProxy {
	t.Helper()
	u, err := url.Parse(upstreamURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tlsProxy{ln: ln, upstream: u.Host, startTLS: startTLS, cfg: &tls.Config{Certificates: []tls.Certificate{cert}}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *tlsProxy) url() string {
	if p.startTLS {
		return "ldap://" + p.ln.Addr().String()
	}
	return "ldaps://" + p.ln.Addr().String()
}

func (p *tlsProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer c.Close()
			var client net.Conn = c
			if p.startTLS {
				if !answerStartTLS(c) {
					return
				}
			}
			tc := tls.Server(client, p.cfg)
			if err := tc.Handshake(); err != nil {
				return
			}
			up, err := net.Dial("tcp", p.upstream)
			if err != nil {
				return
			}
			defer up.Close()
			done := make(chan struct{})
			go func() {
				io.Copy(up, tc) //nolint:errcheck // ends with either side
				up.Close()
				close(done)
			}()
			var w io.Writer = tc
			if p.record != nil {
				w = io.MultiWriter(tc, lockedWriter{&p.mu, p.record})
			}
			io.Copy(w, up) //nolint:errcheck // ends with either side
			tc.Close()
			<-done
		}()
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// answerStartTLS reads one request, which must be StartTLS, and answers it
// with success.
func answerStartTLS(c net.Conn) bool {
	r := bufio.NewReader(c)
	if tag, err := r.ReadByte(); err != nil || tag != tagSequence {
		return false
	}
	n, err := readLength(r)
	if err != nil {
		return false
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return false
	}
	v, rest, err := expect(b, tagInteger)
	if err != nil {
		return false
	}
	id, _ := berInt(v)
	op, body, _, err := tlv(rest)
	if err != nil || op != 0x77 || !strings.Contains(string(body), oidStartTLS) {
		return false
	}
	msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	msg.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, ""))
	res := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 24, nil, "")
	res.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, ""))
	res.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", ""))
	res.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", ""))
	msg.AppendChild(res)
	_, err = c.Write(msg.Bytes())
	return err == nil
}

func TestSyncOverTLS(t *testing.T) {
	cert, certPEM := testCert(t)
	_, otherPEM := testCert(t)
	for _, startTLS := range []bool{false, true} {
		name := "ldaps"
		if startTLS {
			name = "StartTLS"
		}
		t.Run(name+" with the server's CA gives the fixture's directory", func(t *testing.T) {
			var p *tlsProxy
			f := newSyncFixture(t, func(in *SourceInput) {
				in.CACert, in.StartTLS, in.PageSize = certPEM, startTLS, 5
			})
			p = newTLSProxy(t, f.ldap.URL, startTLS, cert)
			f.src.URL = p.url()
			if _, err := f.store.db.Exec(`UPDATE ldap_sources SET url = $1 WHERE id = $2`, p.url(), f.src.ID); err != nil {
				t.Fatal(err)
			}
			rep := f.mustRun(t, SyncOptions{})
			diffRows(t, name+" sync", directoryRows(t, f.db, f.org), expectedRows(t))
			if rep.Added != 19 {
				t.Errorf("report: %+v", rep)
			}
		})
		t.Run(name+" with another CA fails and changes nothing", func(t *testing.T) {
			f := newSyncFixture(t, func(in *SourceInput) { in.CACert, in.StartTLS = otherPEM, startTLS })
			p := newTLSProxy(t, f.ldap.URL, startTLS, cert)
			if _, err := f.store.db.Exec(`UPDATE ldap_sources SET url = $1 WHERE id = $2`, p.url(), f.src.ID); err != nil {
				t.Fatal(err)
			}
			rep, err := f.run(t, SyncOptions{})
			if err == nil || rep.Status != RunFailed || !strings.Contains(rep.Error, "certificate") {
				t.Errorf("sync with an untrusted certificate: %v, report %+v", err, rep)
			}
			if rows := directoryRows(t, f.db, f.org); len(rows) != 0 {
				t.Errorf("the failed run wrote %d entries", len(rows))
			}
		})
	}
}

// TestCaptureLDAPResponses rewrites testdata/ldap/slapd-responses.ber, the
// seed of FuzzLDAPResponses: what slapd sent during a sync of the small
// fixture (bind, sub-range and paged searches). Run with
// BIFROST_CAPTURE_LDAP=1.
func TestCaptureLDAPResponses(t *testing.T) {
	if os.Getenv("BIFROST_CAPTURE_LDAP") == "" {
		t.Skip("set BIFROST_CAPTURE_LDAP=1 to rewrite testdata/ldap/slapd-responses.ber")
	}
	cert, certPEM := testCert(t)
	f := newSyncFixture(t, func(in *SourceInput) { in.CACert, in.PageSize = certPEM, 7 })
	f.syncer.readWorkers = 1
	p := newTLSProxy(t, f.ldap.URL, false, cert)
	var buf strings.Builder
	p.record = &buf
	if _, err := f.store.db.Exec(`UPDATE ldap_sources SET url = $1 WHERE id = $2`, p.url(), f.src.ID); err != nil {
		t.Fatal(err)
	}
	f.mustRun(t, SyncOptions{DryRun: true})
	if err := os.MkdirAll("testdata/ldap", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("testdata/ldap/slapd-responses.ber", []byte(buf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
