package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bifrost.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSampleConfigIsTheDefaults(t *testing.T) {
	cfg, err := loadConfig("../../bifrost.sample.yaml", envMap(nil))
	if err != nil {
		t.Fatalf("the sample config does not load: %v", err)
	}
	if want := defaultConfig(); !reflect.DeepEqual(cfg, want) {
		t.Errorf("the sample config and the defaults differ:\nsample:   %+v\ndefaults: %+v", cfg, want)
	}
}

func TestConfigLayers(t *testing.T) {
	file := writeFile(t, "data_dir: /srv/bifrost\nhttp:\n  addr: 0.0.0.0:8443\nsip:\n  domain: video.example\nshutdown_timeout: 5s\n")
	secret := filepath.Join(t.TempDir(), "db-url")
	if err := os.WriteFile(secret, []byte("postgres://u:p@db/bifrost\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(file, envMap(map[string]string{
		"BIFROST_HTTP_ADDR":         "127.0.0.1:9000",
		"BIFROST_RTP_PORT_MIN":      "20000",
		"BIFROST_DATABASE_URL_FILE": secret,
		"BIFROST_WEBRTC_MAX_TILES":  "4",
	}))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"the file sets data_dir", cfg.DataDir, "/srv/bifrost"},
		{"the environment wins over the file", cfg.HTTP.Addr, "127.0.0.1:9000"},
		{"nested file keys reach their section", cfg.SIP.Domain, "video.example"},
		{"durations decode", cfg.ShutdownTimeout, 5 * time.Second},
		{"numbers come from the environment", cfg.RTP.PortMin, 20000},
		{"defaults stay where nothing is set", cfg.RTP.PortMax, 49999},
		{"secrets come from *_FILE, trimmed", cfg.DatabaseURL, "postgres://u:p@db/bifrost"},
		{"webrtc.max_tiles caps the bridge's forwarding too", cfg.bridge().VideoTiles, 4},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestConfigSIPAndTrustedProxies(t *testing.T) {
	t.Run("the defaults reach sipcall and webadmin", func(t *testing.T) {
		cfg, err := loadConfig("", envMap(nil))
		if err != nil {
			t.Fatal(err)
		}
		sc, wc := cfg.sipcall(), cfg.webadmin()
		if sc.DisableLatching || sc.RTPTimeout != 30*time.Second || sc.SessionExpires != 30*time.Minute || sc.MinSE != 90*time.Second {
			t.Errorf("sipcall config %+v: want latching on, 30s RTP timeout, 30m session interval, 90s Min-SE", sc)
		}
		if want := []string{"127.0.0.0/8", "::1/128"}; !reflect.DeepEqual(wc.TrustedProxies, want) {
			t.Errorf("trusted proxies %q, want %q", wc.TrustedProxies, want)
		}
	})
	t.Run("the file sets them", func(t *testing.T) {
		file := writeFile(t, "http:\n  trusted_proxies: [10.0.0.0/8, 192.0.2.7]\n"+
			"sip:\n  symmetric_rtp: false\n  rtp_timeout: 1m\n  session_expires: 10m\n  min_se: 2m\n")
		cfg, err := loadConfig(file, envMap(nil))
		if err != nil {
			t.Fatal(err)
		}
		sc, wc := cfg.sipcall(), cfg.webadmin()
		if !sc.DisableLatching || sc.RTPTimeout != time.Minute || sc.SessionExpires != 10*time.Minute || sc.MinSE != 2*time.Minute {
			t.Errorf("sipcall config %+v: want latching off, 1m RTP timeout, 10m session interval, 2m Min-SE", sc)
		}
		if want := []string{"10.0.0.0/8", "192.0.2.7"}; !reflect.DeepEqual(wc.TrustedProxies, want) {
			t.Errorf("trusted proxies %q, want %q", wc.TrustedProxies, want)
		}
	})
	t.Run("the environment wins over the file", func(t *testing.T) {
		file := writeFile(t, "http:\n  trusted_proxies: [10.0.0.0/8]\nsip:\n  symmetric_rtp: false\n  rtp_timeout: 1m\n")
		cfg, err := loadConfig(file, envMap(map[string]string{
			"BIFROST_HTTP_TRUSTED_PROXIES": " 172.16.0.0/12 , ::1 ",
			"BIFROST_SIP_SYMMETRIC_RTP":    "true",
			"BIFROST_SIP_RTP_TIMEOUT":      "45s",
			"BIFROST_SIP_SESSION_EXPIRES":  "15m",
			"BIFROST_SIP_MIN_SE":           "100s",
		}))
		if err != nil {
			t.Fatal(err)
		}
		sc, wc := cfg.sipcall(), cfg.webadmin()
		if sc.DisableLatching || sc.RTPTimeout != 45*time.Second || sc.SessionExpires != 15*time.Minute || sc.MinSE != 100*time.Second {
			t.Errorf("sipcall config %+v: want latching on, 45s RTP timeout, 15m session interval, 100s Min-SE", sc)
		}
		if want := []string{"172.16.0.0/12", "::1"}; !reflect.DeepEqual(wc.TrustedProxies, want) {
			t.Errorf("trusted proxies %q, want %q", wc.TrustedProxies, want)
		}
	})
	t.Run("an empty list trusts no proxy, from the file or as none", func(t *testing.T) {
		for name, load := range map[string]func() (Config, error){
			"file": func() (Config, error) { return loadConfig(writeFile(t, "http:\n  trusted_proxies: []\n"), envMap(nil)) },
			"env": func() (Config, error) {
				return loadConfig("", envMap(map[string]string{"BIFROST_HTTP_TRUSTED_PROXIES": "none"}))
			},
		} {
			cfg, err := load()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			// webadmin reads nil as loopback; only a non-nil empty list trusts none.
			if tp := cfg.webadmin().TrustedProxies; tp == nil || len(tp) != 0 {
				t.Errorf("%s: trusted proxies %#v, want an empty, non-nil list", name, tp)
			}
		}
	})
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		wantErr string
	}{
		{"an unknown top-level key is named with its line", "data_dir: x\ndatabase: y\n", nil, `line 2: unknown key "database"`},
		{"an unknown nested key is named with its full path", "http:\n  adr: :80\n", nil, `unknown key "http.adr"`},
		{"a wrong type names the field", "rtp:\n  port_min: many\n", nil, "port_min"},
		{"an inverted port range", "rtp:\n  port_min: 50000\n  port_max: 40000\n", nil, "port_max must be above port_min"},
		{"ports outside 1024-65535", "", map[string]string{"BIFROST_RTP_PORT_MAX": "70000"}, "within 1024-65535"},
		{"a non-numeric port variable", "", map[string]string{"BIFROST_RTP_PORT_MIN": "abc"}, "BIFROST_RTP_PORT_MIN: want a whole number"},
		{"a listen address without a port", "", map[string]string{"BIFROST_HTTP_ADDR": "localhost"}, "http.addr"},
		{"a SIP address with a bad port", "sip:\n  addr: \":99999\"\n", nil, "sip.addr"},
		{"a public IP that is not one", "public_ip: video.example\n", nil, "public_ip"},
		{"a bad log level", "log:\n  level: loud\n", nil, "log.level"},
		{"a secret given twice", "", map[string]string{"BIFROST_DATABASE_URL": "x", "BIFROST_DATABASE_URL_FILE": "/nonexistent"}, "use one"},
		{"a missing secret file", "", map[string]string{"BIFROST_DATABASE_URL_FILE": "/nonexistent/secret"}, "BIFROST_DATABASE_URL_FILE"},
		{"a file that is not a mapping", "- a\n- b\n", nil, "mapping"},
		{"YAML that does not parse", "http: [\n", nil, "yaml"},
		{"a trusted proxy that is no address", "http:\n  trusted_proxies: [proxy.example]\n", nil, "http.trusted_proxies"},
		{"trusted proxies not a list", "http:\n  trusted_proxies: {a: b}\n", nil, "http.trusted_proxies: want a list"},
		{"a symmetric_rtp variable that is no boolean", "", map[string]string{"BIFROST_SIP_SYMMETRIC_RTP": "maybe"}, "BIFROST_SIP_SYMMETRIC_RTP: want true or false"},
		{"a zero RTP timeout", "sip:\n  rtp_timeout: 0s\n", nil, "sip.rtp_timeout"},
		{"a Min-SE below RFC 4028's 90s", "", map[string]string{"BIFROST_SIP_MIN_SE": "60s"}, "sip.min_se"},
		{"a session interval below Min-SE", "sip:\n  session_expires: 100s\n  min_se: 120s\n", nil, "sip.session_expires"},
		{"a session interval that is no duration", "", map[string]string{"BIFROST_SIP_SESSION_EXPIRES": "soon"}, "BIFROST_SIP_SESSION_EXPIRES: want a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			_, err := loadConfig(path, envMap(tt.env))
			if err == nil {
				t.Fatalf("no error; want one containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://bifrost:s3cret@db:5432/x":       "postgres://bifrost:xxxxx@db:5432/x",
		"host=/tmp user=u password=s3cret dbname=x": "host=/tmp user=u password=xxxxx dbname=x",
		"host=/tmp user=u password='a b' dbname=x":  "host=/tmp user=u password=xxxxx dbname=x",
	} {
		if got := redactURL(in); got != want || strings.Contains(got, "s3cret") {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
