package directory

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

// slapd is a scratch OpenLDAP server on 127.0.0.1, started by a test with a
// temporary slapd.conf (mdb backend; core, cosine and inetorgperson schemas)
// for the suffix dc=nordfjord,dc=example.
type slapd struct {
	t      testing.TB
	dir    string
	url    string
	conf   string
	cmd    *exec.Cmd
	done   chan struct{}
	rootDN string
	rootPW string
}

const fixtureSuffix = "dc=nordfjord,dc=example"

// needComponent skips the test when a real component is missing, or fails it
// with CI=true.
func needComponent(t testing.TB, name, path string) string {
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

// startSlapd starts slapd and stops it when the test ends.
func startSlapd(t testing.TB) *slapd {
	t.Helper()
	s := newSlapd(t)
	s.start()
	return s
}

// newSlapd writes the configuration of a slapd that start starts.
func newSlapd(t testing.TB) *slapd {
	t.Helper()
	needComponent(t, "slapd", "/usr/sbin/slapd")
	needComponent(t, "ldapadd", "ldapadd")
	dir, err := os.MkdirTemp("", "bifrost-slapd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	s := &slapd{t: t, dir: dir, rootDN: "cn=admin," + fixtureSuffix, rootPW: "admin-test-only"}
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
`, dir, fixtureSuffix, s.rootDN, s.rootPW)
	if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// slapadd loads an LDIF file offline (before start), much faster than ldapadd.
func (s *slapd) slapadd(path string) {
	s.t.Helper()
	out, err := exec.Command("/usr/sbin/slapadd", "-q", "-f", s.conf, "-l", path).CombinedOutput()
	if err != nil {
		s.t.Fatalf("slapadd %s: %v\n%s", path, err, out)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *slapd) start() {
	t := s.t
	t.Helper()
	bin := "/usr/sbin/slapd"
	s.url = "ldap://127.0.0.1:" + strconv.Itoa(freePort(t))
	var stderr bytes.Buffer
	// -d 0: stay in the foreground (so the test owns the process) without debug output.
	s.cmd = exec.Command(bin, "-f", s.conf, "-h", s.url+"/", "-d", "0")
	s.cmd.Stderr = &stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start slapd: %v", err)
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := ldap.DialURL(s.url)
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
			t.Fatalf("waiting for slapd to accept connections on %s: %v", s.url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops slapd (idempotent) and waits for it to exit.
func (s *slapd) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// Kill stops slapd at once, as a crashed or unplugged server.
func (s *slapd) Kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// ldapadd loads an LDIF file as the root DN.
func (s *slapd) ldapadd(path string) {
	s.t.Helper()
	out, err := exec.Command("ldapadd", "-x", "-H", s.url, "-D", s.rootDN, "-w", s.rootPW, "-f", path).CombinedOutput()
	if err != nil {
		s.t.Fatalf("ldapadd %s: %v\n%s", path, err, out)
	}
}

// ldapmodify applies an LDIF change set given as text.
func (s *slapd) ldapmodify(ldif string) {
	s.t.Helper()
	cmd := exec.Command("ldapmodify", "-x", "-H", s.url, "-D", s.rootDN, "-w", s.rootPW)
	cmd.Stdin = bytes.NewBufferString(ldif)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("ldapmodify: %v\n%s\n%s", err, out, ldif)
	}
}
