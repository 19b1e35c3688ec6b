package baresiptest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Phone is one running baresip.
type Phone struct {
	// Name is Options.Name; Dir is its directory (config, accounts, media).
	Name string
	Dir  string
	// SIPPort is the port of its SIP listener; Ctrl the ctrl_tcp address.
	SIPPort int
	Ctrl    string
	// RTPPorts is its RTP port range, first and last.
	RTPPorts [2]int

	t        testing.TB
	cmd      *exec.Cmd
	out      *lockedBuffer
	done     chan struct{}
	stopOnce sync.Once
}

// Dir returns a new directory for an endpoint called name, where its media
// files can be made before Start.
func Dir(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Start writes the config and accounts of o into dir (Dir makes one; ""
// makes one) and starts baresip there for at most lifetime (baresip's -t).
// It is stopped when the test ends, and its output logged if the test failed.
func Start(t testing.TB, dir string, o Options, lifetime time.Duration) *Phone {
	t.Helper()
	bin := Need(t, "baresip", "baresip")
	modPath, err := ModulePath()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("baresip modules: %v", err)
		}
		t.Skipf("baresip modules: %v", err)
	}
	if dir == "" {
		dir = Dir(t, o.Name)
	}
	sipPort := FreePort(t)
	ctrlPort := 0
	if o.Ctrl {
		ctrlPort = FreePort(t)
	}
	if o.RTPPorts == [2]int{} {
		base := 30000 + 100*rand.IntN(90)
		o.RTPPorts = [2]int{base, base + 99}
	}
	files := map[string]string{"config": o.config(sipPort, ctrlPort, modPath), "accounts": o.Account(sipPort)}
	for f, body := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := &Phone{Name: o.Name, Dir: dir, SIPPort: sipPort, RTPPorts: o.RTPPorts, t: t, out: &lockedBuffer{}, done: make(chan struct{})}
	if o.Ctrl {
		p.Ctrl = "127.0.0.1:" + strconv.Itoa(ctrlPort)
	}
	args := []string{"-f", dir, "-t", strconv.Itoa(int(lifetime / time.Second))}
	if o.Dial != "" {
		args = append(args, "-e", "/dial "+o.Dial)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	// Video display: fakevideo's null display; no X needed.
	p.cmd.Env = append(os.Environ(), "DISPLAY=")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("baresip %s output:\n%s", p.Name, p.out.String())
		}
	})
	return p
}

// Output returns what baresip printed so far.
func (p *Phone) Output() string { return p.out.String() }

// Stop ends baresip (SIGTERM, so that it finishes its recordings; SIGKILL
// after 5 s) and waits for it. It is idempotent.
func (p *Phone) Stop() {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// Exited reports whether baresip has ended.
func (p *Phone) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// FreePort returns a port on 127.0.0.1 free for TCP and UDP a moment ago,
// with the next one free too (baresip binds SIP over TLS on port+1).
func FreePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		p := 20000 + rand.IntN(20000)
		if portFree(p) && portFree(p+1) {
			return p
		}
	}
	t.Fatal("baresiptest: no free port pair found")
	return 0
}

func portFree(p int) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	_ = l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	_ = u.Close()
	return true
}

// lockedBuffer collects the output of the process safely.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// String names the phone.
func (p *Phone) String() string { return fmt.Sprintf("baresip %s", p.Name) }
