package main

// End-to-end tests of encrypted calls: baresip with SDES-SRTP
// (mediaenc=srtp-mand) and over SIP/TLS, in a room with a plain-RTP
// baresip.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/media"
	"github.com/bifrost-video/bifrost/bridge/sipcall"
	"github.com/bifrost-video/bifrost/internal/baresiptest"
)

// secureBaresip starts baresip like startBaresip, with the srtp module
// loaded, extra lines in its config and extra parameters on its account
// (";mediaenc=srtp-mand"). It returns the first of its 100 RTP ports too.
func secureBaresip(t *testing.T, name, source, codec, uri, extraConfig, accountParams string) (*baresip, int) {
	t.Helper()
	needTool(t, "baresip")
	modDir, err := baresiptest.ModulePath()
	if err != nil {
		t.Skipf("baresip modules: %v", err)
	}
	if _, err := os.Stat(filepath.Join(modDir, "srtp.so")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("baresip has no srtp module: %v", err)
		}
		t.Skipf("baresip has no srtp module: %v", err)
	}
	dir, o := recordingOptions(t, name, source, codec, uri)
	o.Modules = append(o.Modules, "srtp.so")
	o.AccountParams += accountParams
	o.Extra += extraConfig + "\n"
	p := baresiptest.Start(t, dir, o, 120*time.Second)
	return &baresip{Phone: p, t: t, name: name, dir: dir}, p.RTPPorts[0]
}

// hearEachOther waits until both callers are joined with the encryption
// wanted, lets them record 4 s more, and checks that each hears the
// other's tone (Goertzel on baresip's decoded recording). It returns the
// participants as they were once both had joined.
func hearEachOther(t *testing.T, e *e2e, room bridge.RoomID, phones []*baresip, hz []int, enc []bridge.Encryption) map[string]bridge.ParticipantView {
	t.Helper()
	eventually(t, 30*time.Second, "both callers joined", func() bool {
		ps := e.participants(room)
		for _, ph := range phones {
			if ps[ph.name].State != bridge.ParticipantJoined {
				return false
			}
		}
		return true
	})
	ps := e.participants(room)
	for i, ph := range phones {
		if got := ps[ph.name].Encryption; got != enc[i] {
			t.Errorf("%s joined with encryption %q; want %q", ph.name, got, enc[i])
		}
	}
	start := make([]float64, len(phones))
	for i, ph := range phones {
		start[i] = ph.recordedSeconds()
	}
	eventually(t, 30*time.Second, "4 s of audio recorded by each caller after both joined", func() bool {
		for i, ph := range phones {
			if ph.recordedSeconds() < start[i]+4 {
				return false
			}
		}
		return true
	})
	for _, ph := range phones {
		ph.stop()
	}
	for i, ph := range phones {
		pcm, rate := ph.received()
		tail := pcm[len(pcm)-3*rate:]
		other := hz[1-i]
		level := toneLevel(tail, float64(other), rate)
		t.Logf("%s hears %d Hz at %.0f", ph.name, other, level)
		if level < 300 {
			t.Errorf("%s hears the other caller's %d Hz tone at amplitude %.0f; want it clearly (above 300)", ph.name, other, level)
		}
	}
	return ps
}

func TestE2ESRTPCallerAndPlainCallerHearEachOther(t *testing.T) {
	needCodecs(t, media.PCMU)
	room := bridge.RoomInfo{ID: "room-srtp", OrganisationID: "org", Name: "SRTP", Alias: "4321"}
	e := startE2E(t, room)
	dir := t.TempDir()
	secure, _ := secureBaresip(t, "secure", toneWAV(t, dir, 440, 60), "PCMU", e.uri(room.Alias), "", ";mediaenc=srtp-mand")
	plain := startBaresip(t, "plain", toneWAV(t, dir, 880, 60), "PCMU", e.uri(room.Alias))
	hearEachOther(t, e, room.ID, []*baresip{secure, plain}, []int{440, 880},
		[]bridge.Encryption{bridge.EncryptionSRTPSDES, bridge.EncryptionNone})
}

// testCA is a certificate authority made for one test and a server
// certificate it issued for 127.0.0.1.
type testCA struct {
	caFile string // PEM, for baresip's sip_cafile
	server tls.Certificate
}

func newTestCA(t *testing.T, dir string) testCA {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Bifrost test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(crand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return testCA{caFile: caFile, server: tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}}
}

// startE2ETLS is startE2E with SIP over TLS on a free port, serving cert.
func startE2ETLS(t *testing.T, cert tls.Certificate, rooms ...bridge.RoomInfo) *e2e {
	t.Helper()
	resolver := bridge.ResolverFunc(func(_ context.Context, alias string) (bridge.RoomInfo, error) {
		for _, r := range rooms {
			if r.Alias == alias {
				return r, nil
			}
		}
		return bridge.RoomInfo{}, fmt.Errorf("alias %q: %w", alias, bridge.ErrRoomNotFound)
	})
	base := 41000 + 200*rand.IntN(40)
	media := bridge.Config{RTPPortMin: base, RTPPortMax: base + 199}
	obs := &legRecorder{}
	log := slog.New(slog.DiscardHandler)
	b := bridge.New(media, bridge.Deps{Resolver: resolver, Observer: obs, Logger: log})
	srv, err := sipcall.NewServer(sipcall.Config{Addr: "127.0.0.1:0", Rooms: sipcall.BridgeRooms(b), Media: media,
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, TLSAddr: "127.0.0.1:0"}, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Close()
		_ = b.Close()
	})
	return &e2e{b: b, srv: srv, obs: obs}
}

func TestE2ESRTPOverTLSAndPlainCallerHearEachOther(t *testing.T) {
	needCodecs(t, media.PCMU)
	dir := t.TempDir()
	ca := newTestCA(t, dir)
	room := bridge.RoomInfo{ID: "room-tls", OrganisationID: "org", Name: "TLS", Alias: "4322"}
	e := startE2ETLS(t, ca.server, room)
	tlsURI := fmt.Sprintf("sip:%s@%s;transport=tls", room.Alias, e.srv.TLSAddr())
	secure, _ := secureBaresip(t, "secure", toneWAV(t, dir, 440, 60), "PCMU", tlsURI, "sip_cafile "+ca.caFile, ";mediaenc=srtp-mand")
	plain := startBaresip(t, "plain", toneWAV(t, dir, 880, 60), "PCMU", e.uri(room.Alias))
	ps := hearEachOther(t, e, room.ID, []*baresip{secure, plain}, []int{440, 880},
		[]bridge.Encryption{bridge.EncryptionSRTPSDES, bridge.EncryptionNone})
	if got := ps["secure"].Transport; got != "tls" {
		t.Errorf("the secure caller's transport = %q, want tls", got)
	}
}

// marshalKey is c's private key as PKCS #8 PEM.
func marshalKey(c tls.Certificate) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
