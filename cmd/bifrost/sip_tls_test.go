package main

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func TestRoomResolverReadsTheRoomsSRTPPolicy(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	var org string
	if err := db.GetContext(ctx, &org, `INSERT INTO organisations (name) VALUES ('Acme') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO rooms (organisation_id, name, alias, srtp_policy)
		VALUES ($1, 'Secret', '1001', 'required'), ($1, 'Open', '1002', NULL)`, org); err != nil {
		t.Fatal(err)
	}
	r := &roomResolver{db: db}
	for alias, want := range map[string]bridge.SRTPPolicy{"1001": bridge.SRTPRequired, "1002": ""} {
		got, err := r.ResolveRoom(ctx, alias)
		if err != nil {
			t.Fatal(err)
		}
		if got.SRTP != want {
			t.Errorf("room %s: SRTP %q; want %q", alias, got.SRTP, want)
		}
	}
	if _, err := db.ExecContext(ctx, `UPDATE rooms SET srtp_policy = 'sometimes' WHERE alias = '1002'`); err == nil {
		t.Error("the schema took an unknown SRTP policy")
	}
}

func TestSIPSecurityConfig(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir)
	certFile, keyFile := writeKeyPair(t, dir, ca.server)
	tests := []struct {
		name string
		env  map[string]string
		err  string // a part of the error; "" for none
	}{
		{"the defaults are preferred and no TLS", nil, ""},
		{"a policy from the environment is taken", map[string]string{"BIFROST_SIP_SRTP": "required"}, ""},
		{"an unknown policy is refused", map[string]string{"BIFROST_SIP_SRTP": "maybe"}, "sip.srtp"},
		{"an empty variable leaves the default", map[string]string{"BIFROST_SIP_SRTP": ""}, ""},
		{"a certificate without its key is refused", map[string]string{"BIFROST_SIP_TLS_CERT": certFile}, "set both"},
		{"a certificate and key that load are taken", map[string]string{"BIFROST_SIP_TLS_CERT": certFile, "BIFROST_SIP_TLS_KEY": keyFile}, ""},
		{"a missing certificate file is refused", map[string]string{"BIFROST_SIP_TLS_CERT": certFile + ".nope", "BIFROST_SIP_TLS_KEY": keyFile}, "sip.tls_cert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig("", envMap(tt.env))
			if tt.err == "" {
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("load = %v (%+v); want an error about %s", err, cfg.SIP, tt.err)
			}
		})
	}
	t.Run("the SIP server gets the policy and a certificate", func(t *testing.T) {
		cfg, err := loadConfig("", envMap(map[string]string{"BIFROST_SIP_SRTP": "off",
			"BIFROST_SIP_TLS_CERT": certFile, "BIFROST_SIP_TLS_KEY": keyFile, "BIFROST_SIP_TLS_LISTEN": "127.0.0.1:5071"}))
		if err != nil {
			t.Fatal(err)
		}
		sc := cfg.sipcall()
		if sc.SRTP != bridge.SRTPOff || sc.TLSAddr != "127.0.0.1:5071" || sc.TLS == nil {
			t.Fatalf("sipcall config: SRTP %q TLSAddr %q TLS %v", sc.SRTP, sc.TLSAddr, sc.TLS != nil)
		}
		c, err := sc.TLS.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil || len(c.Certificate) == 0 {
			t.Fatalf("certificate: %v", err)
		}
	})
}

// writeKeyPair writes c's chain and key as PEM files.
func writeKeyPair(t *testing.T, dir string, c tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	var chain []byte
	for _, der := range c.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	key, err := marshalKey(c)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, chain, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
