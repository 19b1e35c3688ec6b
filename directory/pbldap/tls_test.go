package pbldap

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// selfSigned returns a TLS configuration with a certificate for 127.0.0.1.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pbldap test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}

func TestStartTLS(t *testing.T) {
	srv := startServer(t, Config{TLS: selfSigned(t), RequireTLS: true}, Options{Directory: smallDir(), Authenticator: acceptToken})
	url := "ldap://" + srv.Addr().String()

	c := dial(t, url)
	if err := c.Bind("cn=x", "token"); resultCode(err) != ldap.LDAPResultConfidentialityRequired {
		t.Errorf("bind before StartTLS: %v, want confidentialityRequired", err)
	}
	if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true}); err != nil { //nolint:gosec // a self-signed test certificate
		t.Fatalf("StartTLS: %v", err)
	}
	if err := c.Bind("cn=x", "token"); err != nil {
		t.Fatalf("bind over TLS: %v", err)
	}
	sr, err := search(c, DefaultBaseDN, ldap.ScopeWholeSubtree, "(cn=*berg*)", "displayName")
	if err != nil || len(sr.Entries) != 2 {
		t.Errorf("search over TLS: %v", err)
	}
	if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true}); err == nil { //nolint:gosec // as above
		t.Error("a second StartTLS succeeded")
	}

	t.Run("with ldapsearch -ZZ", func(t *testing.T) {
		t.Setenv("LDAPTLS_REQCERT", "never")
		res := ldapsearch(t, url, "-ZZ", "-D", "cn=x", "-w", "token", "-b", DefaultBaseDN, "(cn=*berg*)", "displayName")
		if res.code != 0 || len(res.entries) != 2 {
			t.Errorf("code %d, %d entries: %s", res.code, len(res.entries), res.stderr)
		}
	})
	t.Run("is not offered without a certificate", func(t *testing.T) {
		plain := startServer(t, Config{}, Options{Directory: smallDir(), Authenticator: acceptToken})
		c := dial(t, "ldap://"+plain.Addr().String())
		if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true}); resultCode(err) != ldap.LDAPResultProtocolError { //nolint:gosec // as above
			t.Errorf("StartTLS on a server without TLS: %v", err)
		}
	})
}

func TestLDAPS(t *testing.T) {
	cfg := selfSigned(t)
	srv := startServer(t, Config{TLS: cfg, ListenLDAPS: "127.0.0.1:0", RequireTLS: true},
		Options{Directory: smallDir(), Authenticator: acceptToken})
	c, err := ldap.DialURL("ldaps://"+srv.AddrLDAPS().String(), ldap.DialWithTLSConfig(&tls.Config{InsecureSkipVerify: true})) //nolint:gosec // a self-signed test certificate
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind("cn=x", "token"); err != nil {
		t.Fatalf("bind over LDAPS (TLS required): %v", err)
	}
	sr, err := search(c, DefaultBaseDN, ldap.ScopeWholeSubtree, "(cn=*berg*)", "displayName")
	if err != nil || len(sr.Entries) != 2 {
		t.Errorf("search over LDAPS: %v", err)
	}
	noTLS, err := New(Config{ListenLDAPS: "127.0.0.1:0", Listen: "127.0.0.1:0"}, Options{Directory: smallDir(), Authenticator: acceptToken})
	if err != nil {
		t.Fatal(err)
	}
	if err := noTLS.Start(); err == nil {
		noTLS.Close()
		t.Error("LDAPS started without a certificate")
	}
}
