// Package slapdtest starts a scratch OpenLDAP server (Debian slapd) for tests:
// 127.0.0.1 on a free port, a temporary slapd.conf (mdb backend; core, cosine and
// inetorgperson schemas) for the suffix of the shared directory fixtures,
// stopped when the test ends. Without slapd a test skips, or fails with CI=true.
package slapdtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Suffix is the naming context of ../shared/testdata/directory/ldap.
const Suffix = "dc=nordfjord,dc=example"

// Server is one scratch slapd.
type Server struct {
	// URL is ldap://127.0.0.1:PORT once started.
	URL    string
	RootDN string
	RootPW string

	t    testing.TB
	conf string
	cmd  *exec.Cmd
	done chan struct{}
}

// Need returns the path of a real component a test uses, skipping the test
// when it is missing, or failing it with CI=true.
func Need(t testing.TB, name, path string) string {
	t.Helper()
	p, err := exec.LookPath(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (%v); CI needs it (scripts/deps.sh test)", name, err)
		}
		t.Skipf("%s is missing (%v); install it with scripts/deps.sh test", name, err)
	}
	return p
}

// Start starts an empty slapd and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := New(t)
	s.Start()
	return s
}

// New writes the configuration of a slapd that Start starts; Slapadd loads
// data into it before that.
func New(t testing.TB) *Server {
	t.Helper()
	Need(t, "slapd", "/usr/sbin/slapd")
	Need(t, "ldapadd", "ldapadd")
	// Not t.TempDir: slapd may run as another user on some set-ups.
	dir, err := os.MkdirTemp("", "bifrost-slapd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, RootDN: "cn=admin," + Suffix, RootPW: "admin-test-only"}
	s.conf = filepath.Join(dir, "slapd.conf")
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile %[1]s/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
sizelimit size.soft=500 size.hard=500 size.prtotal=unlimited
database mdb
maxsize 4294967296
suffix "%[2]s"
rootdn "%[3]s"
rootpw %[4]s
directory %[1]s/db
index objectClass eq
index entryUUID eq
`, dir, Suffix, s.RootDN, s.RootPW)
	if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Slapadd loads an LDIF file offline (before Start), much faster than LDAPAdd.
func (s *Server) Slapadd(path string) {
	s.t.Helper()
	out, err := exec.Command("/usr/sbin/slapadd", "-q", "-f", s.conf, "-l", path).CombinedOutput()
	if err != nil {
		s.t.Fatalf("slapadd %s: %v\n%s", path, err, out)
	}
}

// Start starts slapd in the foreground (the test owns the process) and waits
// until it accepts connections.
func (s *Server) Start() {
	t := s.t
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.URL = "ldap://127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	var stderr bytes.Buffer
	s.cmd = exec.Command("/usr/sbin/slapd", "-f", s.conf, "-h", s.URL+"/", "-d", "0")
	s.cmd.Stderr = &stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start slapd: %v", err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := ldap.DialURL(s.URL)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-s.done:
			t.Fatalf("slapd exited while starting: %s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for slapd to accept connections on %s: %v", s.URL, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops slapd (idempotent) and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Kill stops slapd at once, as a crashed or unplugged server.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// LDAPAdd loads an LDIF file as the root DN.
func (s *Server) LDAPAdd(path string) {
	s.t.Helper()
	out, err := exec.Command("ldapadd", "-x", "-H", s.URL, "-D", s.RootDN, "-w", s.RootPW, "-f", path).CombinedOutput()
	if err != nil {
		s.t.Fatalf("ldapadd %s: %v\n%s", path, err, out)
	}
}

// LDAPModify applies an LDIF change set given as text.
func (s *Server) LDAPModify(ldif string) {
	s.t.Helper()
	cmd := exec.Command("ldapmodify", "-x", "-H", s.URL, "-D", s.RootDN, "-w", s.RootPW)
	cmd.Stdin = bytes.NewBufferString(ldif)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("ldapmodify: %v\n%s\n%s", err, out, ldif)
	}
}
