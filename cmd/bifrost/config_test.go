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
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
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
