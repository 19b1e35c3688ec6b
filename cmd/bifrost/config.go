package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/sipcall"
	"github.com/bifrost-video/bifrost/webadmin"
)

// Config is the whole configuration of the binary: defaults, overridden by the
// optional YAML file (--config), overridden by BIFROST_* environment variables.
// It is composed here and handed to each package as that package's own Config.
type Config struct {
	// DatabaseURL points at an existing PostgreSQL; empty means the private
	// cluster in DataDir.
	DatabaseURL string `yaml:"database_url"`
	// DataDir holds the private PostgreSQL cluster, the lock file and spools.
	DataDir string `yaml:"data_dir"`
	// SecretKey encrypts secrets at rest (LDAP bind passwords): 32 bytes, hex or
	// base64. Empty: a key generated on first use in <data_dir>/secret.key.
	SecretKey string `yaml:"secret_key"`
	// AutoMigrate lets serve and the other commands bring an older schema up to
	// date on start; when false they refuse and ask for `bifrost migrate`.
	AutoMigrate bool `yaml:"auto_migrate"`
	// PublicIP is announced in SDP and ICE when the host is behind a 1:1 NAT.
	PublicIP string `yaml:"public_ip"`
	// ShutdownTimeout bounds how long serve waits for requests and calls to end.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`

	Log  LogConfig  `yaml:"log"`
	HTTP HTTPConfig `yaml:"http"`
	SIP  SIPConfig  `yaml:"sip"`
	RTP  RTPConfig  `yaml:"rtp"`

	Privacy   PrivacyConfig   `yaml:"privacy"`   // serve_cdr.go
	Phonebook PhonebookConfig `yaml:"phonebook"` // serve_phonebook.go
	LDAP      LDAPConfig      `yaml:"ldap"`      // serve_pbldap.go
	WebRTC    WebRTCConfig    `yaml:"webrtc"`    // serve_webrtc.go
}

// LogConfig selects the log level and format.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// HTTPConfig is the YAML shape of webadmin.Config.
type HTTPConfig struct {
	Addr      string `yaml:"addr"`
	PublicURL string `yaml:"public_url"`
	// TrustedProxies are the addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For names the client; an empty list trusts none.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// SIPConfig is the YAML shape of sipcall.Config.
type SIPConfig struct {
	Addr   string `yaml:"addr"`
	Domain string `yaml:"domain"`
	// SymmetricRTP sends media to where the caller's RTP comes from
	// (RFC 4961), which is what makes callers behind NAT work; false sends
	// it to the address in the caller's SDP.
	SymmetricRTP bool `yaml:"symmetric_rtp"`
	// RTPTimeout ends a call that sent no RTP for this long.
	RTPTimeout time.Duration `yaml:"rtp_timeout"`
	// SessionExpires is the session interval taken when a caller supports
	// session timers but names none, and MinSE the smallest one accepted
	// (RFC 4028; at least 90s).
	SessionExpires time.Duration `yaml:"session_expires"`
	MinSE          time.Duration `yaml:"min_se"`
	// TLSListen is where SIP over TLS listens once TLSCert and TLSKey name a
	// PEM certificate (chain) and its key; without them, no TLS.
	TLSListen string `yaml:"tls_listen"`
	TLSCert   string `yaml:"tls_cert"`
	TLSKey    string `yaml:"tls_key"`
	// SRTP is the system-wide SRTP policy, required, preferred or off; a
	// room may override it (sip_tls.go).
	SRTP string `yaml:"srtp"`
	// VideoMax is the H.264 ceiling declared to endpoints (config_video.go).
	VideoMax string `yaml:"video_max"`
}

// RTPConfig is the YAML shape of the bridge's port range.
type RTPConfig struct {
	PortMin int `yaml:"port_min"`
	PortMax int `yaml:"port_max"`
	// OpusComplexity is the complexity (1 to 10) of the encoders of each
	// room's Opus mixes: lower is more rooms per core, higher is a little
	// better audio (bridge.Config.OpusComplexity).
	OpusComplexity int `yaml:"opus_complexity"`
}

// defaultConfig returns the defaults: everything on this machine, nothing to set up.
func defaultConfig() Config {
	b := bridge.DefaultConfig()
	w := webadmin.DefaultConfig()
	return Config{
		DataDir:         "./var",
		AutoMigrate:     true,
		ShutdownTimeout: 30 * time.Second,
		Log:             LogConfig{Level: "info", Format: "text"},
		HTTP:            HTTPConfig{Addr: w.Addr, TrustedProxies: []string{"127.0.0.0/8", "::1/128"}},
		SIP: SIPConfig{
			Addr:           ":5060",
			SymmetricRTP:   true,
			RTPTimeout:     sipcall.DefaultRTPTimeout,
			SessionExpires: sipcall.DefaultSessionExpires,
			MinSE:          sipcall.DefaultMinSE,
			TLSListen:      sipcall.DefaultTLSAddr,
			SRTP:           string(bridge.SRTPPreferred),
			VideoMax:       "720p30",
		},
		RTP:       RTPConfig{PortMin: b.RTPPortMin, PortMax: b.RTPPortMax, OpusComplexity: b.OpusComplexity},
		Privacy:   PrivacyConfig{InactiveAdminsAfter: 365 * 24 * time.Hour},
		Phonebook: defaultPhonebookConfig(),
		LDAP:      LDAPConfig{Listen: "127.0.0.1:3890"},
		WebRTC:    defaultWebRTCConfig(),
	}
}

// envVar binds one BIFROST_* variable to a field. Secret variables may also be
// given as NAME_FILE, the path of a file holding the value.
type envVar struct {
	name   string
	secret bool
	set    func(c *Config, v string) error
}

func stringVar(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func boolVar(p func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		*p(c) = b
		return nil
	}
}

func durationVar(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("want a duration such as 30s, got %q", v)
		}
		*p(c) = d
		return nil
	}
}

// listVar takes a comma-separated list; "none" is the empty list.
func listVar(p func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		list := []string{}
		if strings.TrimSpace(v) != "none" {
			for item := range strings.SplitSeq(v, ",") {
				if item = strings.TrimSpace(item); item != "" {
					list = append(list, item)
				}
			}
		}
		*p(c) = list
		return nil
	}
}

func intVar(p func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("want a whole number, got %q", v)
		}
		*p(c) = n
		return nil
	}
}

var envVars = []envVar{
	{"BIFROST_DATABASE_URL", true, stringVar(func(c *Config) *string { return &c.DatabaseURL })},
	{"BIFROST_SECRET_KEY", true, stringVar(func(c *Config) *string { return &c.SecretKey })},
	{"BIFROST_DATA_DIR", false, stringVar(func(c *Config) *string { return &c.DataDir })},
	{"BIFROST_AUTO_MIGRATE", false, func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		c.AutoMigrate = b
		return nil
	}},
	{"BIFROST_PUBLIC_IP", false, stringVar(func(c *Config) *string { return &c.PublicIP })},
	{"BIFROST_SHUTDOWN_TIMEOUT", false, func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("want a duration such as 30s, got %q", v)
		}
		c.ShutdownTimeout = d
		return nil
	}},
	{"BIFROST_PRIVACY_INACTIVE_ADMINS_AFTER", false, func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("want a duration such as 8760h, or 0 for never, got %q", v)
		}
		c.Privacy.InactiveAdminsAfter = d
		return nil
	}},
	{"BIFROST_LOG_LEVEL", false, stringVar(func(c *Config) *string { return &c.Log.Level })},
	{"BIFROST_LOG_FORMAT", false, stringVar(func(c *Config) *string { return &c.Log.Format })},
	{"BIFROST_HTTP_ADDR", false, stringVar(func(c *Config) *string { return &c.HTTP.Addr })},
	{"BIFROST_HTTP_PUBLIC_URL", false, stringVar(func(c *Config) *string { return &c.HTTP.PublicURL })},
	{"BIFROST_SIP_ADDR", false, stringVar(func(c *Config) *string { return &c.SIP.Addr })},
	{"BIFROST_HTTP_TRUSTED_PROXIES", false, listVar(func(c *Config) *[]string { return &c.HTTP.TrustedProxies })},
	{"BIFROST_SIP_DOMAIN", false, stringVar(func(c *Config) *string { return &c.SIP.Domain })},
	{"BIFROST_SIP_SYMMETRIC_RTP", false, boolVar(func(c *Config) *bool { return &c.SIP.SymmetricRTP })},
	{"BIFROST_SIP_RTP_TIMEOUT", false, durationVar(func(c *Config) *time.Duration { return &c.SIP.RTPTimeout })},
	{"BIFROST_SIP_SESSION_EXPIRES", false, durationVar(func(c *Config) *time.Duration { return &c.SIP.SessionExpires })},
	{"BIFROST_SIP_MIN_SE", false, durationVar(func(c *Config) *time.Duration { return &c.SIP.MinSE })},
	{"BIFROST_SIP_TLS_LISTEN", false, stringVar(func(c *Config) *string { return &c.SIP.TLSListen })},
	{"BIFROST_SIP_TLS_CERT", false, stringVar(func(c *Config) *string { return &c.SIP.TLSCert })},
	{"BIFROST_SIP_TLS_KEY", false, stringVar(func(c *Config) *string { return &c.SIP.TLSKey })},
	{"BIFROST_SIP_SRTP", false, stringVar(func(c *Config) *string { return &c.SIP.SRTP })},
	{"BIFROST_SIP_VIDEO_MAX", false, stringVar(func(c *Config) *string { return &c.SIP.VideoMax })},
	{"BIFROST_RTP_PORT_MIN", false, intVar(func(c *Config) *int { return &c.RTP.PortMin })},
	{"BIFROST_RTP_PORT_MAX", false, intVar(func(c *Config) *int { return &c.RTP.PortMax })},
	{"BIFROST_RTP_OPUS_COMPLEXITY", false, intVar(func(c *Config) *int { return &c.RTP.OpusComplexity })},
	{"BIFROST_PHONEBOOK_BARE_TMS_ORGANISATION", false, stringVar(func(c *Config) *string { return &c.Phonebook.BareTMSOrganisation })},
	{"BIFROST_PHONEBOOK_REFRESH", false, durationVar(func(c *Config) *time.Duration { return &c.Phonebook.Refresh })},
	{"BIFROST_WEBRTC_UDP_PORT", false, intVar(func(c *Config) *int { return &c.WebRTC.UDPPort })},
	{"BIFROST_WEBRTC_TCP_PORT", false, intVar(func(c *Config) *int { return &c.WebRTC.TCPPort })},
	{"BIFROST_WEBRTC_PUBLIC_IP", false, stringVar(func(c *Config) *string { return &c.WebRTC.PublicIP })},
	{"BIFROST_WEBRTC_MAX_TILES", false, intVar(func(c *Config) *int { return &c.WebRTC.MaxTiles })},
}

// loadConfig builds the configuration from the defaults, the file at path (if not
// empty) and the environment (looked up through getenv), and validates it.
func loadConfig(path string, getenv func(string) string) (Config, error) {
	cfg := defaultConfig()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		if err := decodeConfigFile(data, &cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	for _, ev := range envVars {
		v := getenv(ev.name)
		if ev.secret {
			if file := getenv(ev.name + "_FILE"); file != "" {
				if v != "" {
					return cfg, fmt.Errorf("config: both %s and %s_FILE are set; use one", ev.name, ev.name)
				}
				data, err := os.ReadFile(file)
				if err != nil {
					return cfg, fmt.Errorf("config: %s_FILE: %w", ev.name, err)
				}
				v = strings.TrimSpace(string(data))
			}
		}
		if v == "" {
			continue
		}
		if err := ev.set(&cfg, v); err != nil {
			return cfg, fmt.Errorf("config: %s: %w", ev.name, err)
		}
	}
	if err := cfg.validate(); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// decodeConfigFile decodes YAML strictly: an unknown key is an error that names it
// with its full dotted path and line.
func decodeConfigFile(data []byte, cfg *Config) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return err
	}
	if len(root.Content) == 0 {
		return nil
	}
	if err := checkKeys(root.Content[0], reflect.TypeOf(*cfg), ""); err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return errors.New(strings.Join(te.Errors, "; "))
		}
		return err
	}
	return nil
}

var durationType = reflect.TypeOf(time.Duration(0))

// checkKeys walks a YAML mapping against the struct type t and reports the first
// key that has no field.
func checkKeys(n *yaml.Node, t reflect.Type, prefix string) error {
	if n.Kind != yaml.MappingNode {
		if prefix == "" {
			return fmt.Errorf("line %d: the file must be a mapping of keys to values", n.Line)
		}
		return nil
	}
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = f.Type
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i]
		ft, ok := fields[key.Value]
		if !ok {
			return fmt.Errorf("line %d: unknown key %q", key.Line, prefix+key.Value)
		}
		if ft.Kind() == reflect.Struct && ft != durationType {
			if err := checkKeys(n.Content[i+1], ft, prefix+key.Value+"."); err != nil {
				return err
			}
			continue
		}
		// Decode the value alone so that a type error names its key.
		if err := n.Content[i+1].Decode(reflect.New(ft).Interface()); err != nil {
			return fmt.Errorf("line %d: %s: want a %s value, got %q", key.Line, prefix+key.Value, typeName(ft), n.Content[i+1].Value)
		}
	}
	return nil
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration (e.g. 30s)"
	case t.Kind() == reflect.Int:
		return "whole number"
	case t.Kind() == reflect.Bool:
		return "true/false"
	case t.Kind() == reflect.Slice:
		return "list"
	}
	return t.Kind().String()
}

func (c Config) validate() error {
	if c.DataDir == "" {
		return errors.New("data_dir must not be empty")
	}
	if err := c.webadmin().Validate(); err != nil {
		return err
	}
	if err := c.SIP.validateSecurity(); err != nil {
		return err
	}
	if err := c.sipcall().Validate(); err != nil {
		return fmt.Errorf("sip.addr: %w", err)
	}
	if err := c.SIP.validateTimers(); err != nil {
		return err
	}
	if _, _, err := c.SIP.video(); err != nil {
		return err
	}
	if err := c.bridge().Validate(); err != nil {
		return err
	}
	if c.SecretKey != "" {
		if _, err := decodeKey(c.SecretKey); err != nil {
			return fmt.Errorf("secret_key: %w", err)
		}
	}
	if err := c.WebRTC.validate(c.PublicIP); err != nil {
		return err
	}
	if c.Privacy.InactiveAdminsAfter < 0 {
		return fmt.Errorf("privacy.inactive_admins_after %v: must be 0 (off) or positive", c.Privacy.InactiveAdminsAfter)
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("shutdown_timeout %v: must be positive", c.ShutdownTimeout)
	}
	if _, err := parseLevel(c.Log.Level); err != nil {
		return err
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		return fmt.Errorf("log.format %q: want text or json", c.Log.Format)
	}
	return nil
}

// validateTimers checks the SIP timers, which sipcall would otherwise
// silently raise to its floors.
func (s SIPConfig) validateTimers() error {
	if s.RTPTimeout <= 0 {
		return fmt.Errorf("sip.rtp_timeout %v: must be positive", s.RTPTimeout)
	}
	if s.MinSE < sipcall.DefaultMinSE {
		return fmt.Errorf("sip.min_se %v: must be at least %v (RFC 4028 §5)", s.MinSE, sipcall.DefaultMinSE)
	}
	if s.SessionExpires < s.MinSE {
		return fmt.Errorf("sip.session_expires %v: must be at least sip.min_se (%v)", s.SessionExpires, s.MinSE)
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("log.level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// absDataDir returns DataDir as an absolute path.
func (c Config) absDataDir() (string, error) {
	return filepath.Abs(c.DataDir)
}

func (c Config) webadmin() webadmin.Config {
	return webadmin.Config{Addr: c.HTTP.Addr, PublicURL: c.HTTP.PublicURL, TrustedProxies: c.HTTP.TrustedProxies}
}

func (c Config) sipcall() sipcall.Config {
	return sipcall.Config{
		Addr: c.SIP.Addr, Domain: c.SIP.Domain, UserAgent: "Bifrost/" + version(),
		DisableLatching: !c.SIP.SymmetricRTP, RTPTimeout: c.SIP.RTPTimeout,
		SessionExpires: c.SIP.SessionExpires, MinSE: c.SIP.MinSE,
		TLS: c.SIP.tlsConfig(), TLSAddr: c.SIP.TLSListen, SRTP: bridge.SRTPPolicy(c.SIP.SRTP),
	}
}

func (c Config) bridge() bridge.Config {
	// webrtc.max_tiles caps the sources the bridge forwards to a browser,
	// and the tracks the browser leg opens for them.
	return bridge.Config{RTPPortMin: c.RTP.PortMin, RTPPortMax: c.RTP.PortMax, PublicIP: c.PublicIP, VideoTiles: c.WebRTC.MaxTiles,
		OpusComplexity: c.RTP.OpusComplexity}
}

// publicBaseURL is the URL people are told to open.
func (c Config) publicBaseURL(bound net.Addr) string {
	if c.HTTP.PublicURL != "" {
		return strings.TrimRight(c.HTTP.PublicURL, "/")
	}
	host, port, _ := net.SplitHostPort(bound.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
		if c.PublicIP != "" {
			host = c.PublicIP
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// sipHost is the host part of the SIP URIs people dial.
func (c Config) sipHost(bound net.Addr) string {
	if c.SIP.Domain != "" {
		return c.SIP.Domain
	}
	host, port, _ := net.SplitHostPort(bound.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
		if c.PublicIP != "" {
			host = c.PublicIP
		}
	}
	if port != "5060" {
		return net.JoinHostPort(host, port)
	}
	return host
}
