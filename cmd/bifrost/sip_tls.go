package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
)

// validateSecurity checks the SRTP policy and, when TLS is configured,
// that the certificate and key load.
func (s SIPConfig) validateSecurity() error {
	if p, err := bridge.ParseSRTPPolicy(s.SRTP); err != nil || p == "" {
		return fmt.Errorf("sip.srtp %q: want required, preferred or off", s.SRTP)
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		return errors.New("sip.tls_cert and sip.tls_key: set both or neither")
	}
	if s.TLSCert == "" {
		return nil
	}
	if _, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey); err != nil {
		return fmt.Errorf("sip.tls_cert/sip.tls_key: %w", err)
	}
	return nil
}

// tlsConfig is the TLS configuration of SIP over TLS, nil without a
// certificate. The certificate is read from its files again when they
// change, so a renewed certificate is served without a restart.
func (s SIPConfig) tlsConfig() *tls.Config {
	if s.TLSCert == "" || s.TLSKey == "" {
		return nil
	}
	f := &certFiles{cert: s.TLSCert, key: s.TLSKey}
	return &tls.Config{GetCertificate: f.get, MinVersion: tls.VersionTLS12}
}

// certFiles is a certificate and key on disk, loaded on first use and
// again when either file's modification time changes.
type certFiles struct {
	cert, key string

	mu        sync.Mutex
	loaded    *tls.Certificate
	certMod   time.Time
	keyMod    time.Time
	checkedAt time.Time
}

// recheck bounds how often the files are looked at.
const recheck = 10 * time.Second

// get returns the current certificate; a failed reload keeps the last
// good one.
func (f *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if f.loaded != nil && now.Sub(f.checkedAt) < recheck {
		return f.loaded, nil
	}
	f.checkedAt = now
	ci, cerr := os.Stat(f.cert)
	ki, kerr := os.Stat(f.key)
	if f.loaded != nil && (cerr != nil || kerr != nil || (ci.ModTime().Equal(f.certMod) && ki.ModTime().Equal(f.keyMod))) {
		return f.loaded, nil
	}
	c, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		if f.loaded != nil {
			return f.loaded, nil
		}
		return nil, fmt.Errorf("sip tls certificate: %w", err)
	}
	f.loaded = &c
	if cerr == nil && kerr == nil {
		f.certMod, f.keyMod = ci.ModTime(), ki.ModTime()
	}
	return f.loaded, nil
}

// srtpPolicy reads rooms.srtp_policy; the column's CHECK allows only the
// three policies, and anything else follows the system default.
func srtpPolicy(s string) bridge.SRTPPolicy {
	p, err := bridge.ParseSRTPPolicy(s)
	if err != nil {
		return ""
	}
	return p
}

// encryptionLabel says, for the live conference page, how a participant's
// media and signalling are protected: "SRTP (SDES) over TLS",
// "none over UDP".
func encryptionLabel(p bridge.ParticipantView) string {
	media := "none"
	switch p.Encryption {
	case bridge.EncryptionSRTPSDES:
		media = "SRTP (SDES)"
	case bridge.EncryptionDTLSSRTP:
		media = "DTLS-SRTP"
	}
	if p.Transport == "" {
		return media
	}
	return media + " over " + strings.ToUpper(p.Transport)
}
