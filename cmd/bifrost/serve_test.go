package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// binary is the bifrost binary built once for this package's tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bifrost-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "bifrost")
	if out, err := exec.Command("go", "build", "-race", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build bifrost: %v\n%s", err, out)
		os.Exit(1)
	}
	code := pgtest.Main(m)
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// dataDir makes a data directory the postgres OS user can traverse (t.TempDir is
// 0700), removed after the test.
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "bifrost-data-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A test that failed half-way may leave the cluster running.
		_ = exec.Command("pg_ctl", "stop", "-m", "immediate", "-D", filepath.Join(dir, "postgres", "data")).Run()
		killPostmaster(dir)
		_ = os.RemoveAll(dir)
	})
	return dir
}

// server is a running `bifrost serve`.
type server struct {
	cmd      *exec.Cmd
	stdout   *syncBuffer
	stderr   *syncBuffer
	exited   chan struct{}
	exitErr  error
	httpAddr string
	sipUDP   string
	sipTCP   string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func bifrostCmd(dir string, extraEnv []string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(),
		"BIFROST_DATA_DIR="+dir,
		"BIFROST_HTTP_ADDR=127.0.0.1:0",
		"BIFROST_SIP_ADDR=127.0.0.1:0",
		"BIFROST_WEBRTC_UDP_PORT=0", // any free port: tests run side by side
		"BIFROST_WEBRTC_TCP_PORT=0",
		"BIFROST_DATABASE_URL=",
		"BIFROST_SHUTDOWN_TIMEOUT=10s",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	return cmd
}

var listening = regexp.MustCompile(`msg=listening http=(\S+) sip_udp=(\S+) sip_tcp=(\S+)`)

// startServe starts `bifrost serve` on dir and waits until it listens.
func startServe(t *testing.T, dir string, extraEnv ...string) *server {
	t.Helper()
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	s.cmd = bifrostCmd(dir, extraEnv, "serve")
	s.cmd.Stdout = s.stdout
	pr, pw := io.Pipe()
	s.cmd.Stderr = io.MultiWriter(s.stderr, pw)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.exitErr = s.cmd.Wait()
		pw.Close()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("serve stdout:\n%s\nserve stderr:\n%s", s.stdout, s.stderr)
		}
	})
	found := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case m := <-found:
		s.httpAddr, s.sipUDP, s.sipTCP = m[1], m[2], m[3]
		// serve prints its banner (one write, ending in a blank line) before
		// it logs "listening", but stdout and stderr are copied by separate
		// goroutines: wait for the banner too.
		eventually(t, 30*time.Second, "serve's banner on stdout", func() bool {
			out := s.stdout.String()
			return strings.Contains(out, "is running.") && strings.HasSuffix(out, "\n\n")
		})
	case <-s.exited:
		t.Fatalf("serve exited before listening: %v\nstderr:\n%s", s.exitErr, s.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not listen within 60s; stderr:\n%s", s.stderr)
	}
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		if s.exitErr != nil {
			t.Fatalf("serve exited with %v after SIGTERM; stderr:\n%s", s.exitErr, s.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of SIGTERM")
	}
}

func (s *server) get(t *testing.T, path string) (int, string) {
	t.Helper()
	res, err := http.Get("http://" + s.httpAddr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// sipOptions sends an OPTIONS over transport ("UDP" or "TCP") to addr with a sipgo
// client, as an endpoint's keep-alive would, and returns the response.
func sipOptions(t *testing.T, transport, addr string) *sip.Response {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("bifrost-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	cl, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	host, portStr, _ := strings.Cut(addr, ":")
	port, _ := strconv.Atoi(portStr)
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Host: host, Port: port})
	req.SetTransport(transport)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := cl.Do(ctx, req)
	if err != nil {
		t.Fatalf("OPTIONS over %s to %s: %v", transport, addr, err)
	}
	return res
}

func postmasterPID(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "postgres", "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

func killPostmaster(dir string) {
	if pid := postmasterPID(dir); pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// processAlive reports whether pid runs; a zombie (exited, not yet reaped by
// whoever adopted it) counts as gone.
func processAlive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, after, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(after, "Z")
}

// waitFor polls cond until it holds or the timeout passes, saying what it waited for.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServeFirstStartHealthSIPAndShutdown(t *testing.T) {
	dir := dataDir(t)
	s := startServe(t, dir)

	if code, body := s.get(t, "/healthz"); code != 200 {
		t.Errorf("/healthz: %d %s", code, body)
	}
	if code, body := s.get(t, "/readyz"); code != 200 {
		t.Errorf("/readyz: %d %s", code, body)
	}
	code, metrics := s.get(t, "/metrics")
	for _, name := range []string{"bifrost_build_info", "go_goroutines", "process_cpu_seconds_total", "bifrost_http_requests_total"} {
		if code != 200 || !strings.Contains(metrics, name) {
			t.Errorf("/metrics (%d) lacks %s", code, name)
		}
	}
	for _, transport := range []string{"UDP", "TCP"} {
		addr := s.sipUDP
		if transport == "TCP" {
			addr = s.sipTCP
		}
		res := sipOptions(t, transport, addr)
		if res.StatusCode != 200 {
			t.Errorf("OPTIONS over %s: %d %s", transport, res.StatusCode, res.Reason)
		}
		if allow := res.GetHeader("Allow"); allow == nil || !strings.Contains(allow.Value(), "INVITE") {
			t.Errorf("OPTIONS over %s: Allow header %v lacks INVITE", transport, allow)
		}
	}

	out := s.stdout.String()
	pw := regexp.MustCompile(`Sign in as (\S+) with password (\S+)`).FindStringSubmatch(out)
	if pw == nil || len(pw[2]) < 16 {
		t.Fatalf("the first start does not print the admin's email and a generated password:\n%s", out)
	}
	for _, want := range []string{"/admin/", "/join/1000", "sip:1000@127.0.0.1:"} {
		if !strings.Contains(out, want) {
			t.Errorf("the banner lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(s.stderr.String(), pw[2]) {
		t.Error("the generated password appears in the log")
	}

	t.Run("a second serve on the same data directory is refused", func(t *testing.T) {
		cmd := bifrostCmd(dir, nil, "serve")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if err == nil || cmd.ProcessState.ExitCode() != 1 {
			t.Fatalf("second serve: err %v, want exit status 1", err)
		}
		if !strings.Contains(stderr.String(), "another bifrost serve") {
			t.Errorf("second serve says %q, want it to name the running serve", stderr.String())
		}
		if code, _ := s.get(t, "/readyz"); code != 200 {
			t.Errorf("the first serve is no longer ready after the refused second one: %d", code)
		}
	})

	t.Run("a command reuses the running cluster and leaves it running", func(t *testing.T) {
		cmd := bifrostCmd(dir, nil, "migrate")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("migrate while serve runs: %v\n%s", err, out)
		}
		if code, _ := s.get(t, "/readyz"); code != 200 {
			t.Errorf("serve is not ready after a concurrent migrate: %d", code)
		}
	})

	pm := postmasterPID(dir)
	s.stop(t)
	waitFor(t, fmt.Sprintf("the private cluster (pid %d) to exit after serve stopped", pm), 10*time.Second,
		func() bool { return !processAlive(pm) })
	if !strings.Contains(s.stderr.String(), "stopped the private PostgreSQL cluster") {
		t.Errorf("serve did not report stopping the cluster:\n%s", s.stderr)
	}

	t.Run("a restart keeps the data and prints no new password", func(t *testing.T) {
		s2 := startServe(t, dir)
		if code, _ := s2.get(t, "/readyz"); code != 200 {
			t.Errorf("/readyz after restart: %d", code)
		}
		s2.stop(t)
		if strings.Contains(s2.stdout.String(), "password") {
			t.Errorf("a restart printed a password:\n%s", s2.stdout)
		}
		if !strings.Contains(s2.stdout.String(), "/join/1000") {
			t.Errorf("a restart does not show the demo room:\n%s", s2.stdout)
		}
	})
}

func TestServeRecoversAfterKill9(t *testing.T) {
	dir := dataDir(t)
	s := startServe(t, dir)
	_ = s.cmd.Process.Kill()
	<-s.exited

	// The postmaster outlives a killed serve; the next start reuses it.
	s2 := startServe(t, dir)
	if code, body := s2.get(t, "/readyz"); code != 200 {
		t.Fatalf("/readyz after kill -9 of serve: %d %s", code, body)
	}
	_ = s2.cmd.Process.Kill()
	<-s2.exited

	// Now a crash of everything: serve and the postmaster, leaving postmaster.pid stale.
	pm := postmasterPID(dir)
	if pm == 0 {
		t.Fatal("no postmaster.pid while the cluster runs")
	}
	killPostmaster(dir)
	waitFor(t, "the killed postmaster to exit", 10*time.Second, func() bool { return !processAlive(pm) })
	if _, err := os.Stat(filepath.Join(dir, "postgres", "data", "postmaster.pid")); err != nil {
		t.Fatalf("expected a stale postmaster.pid: %v", err)
	}
	s3 := startServe(t, dir)
	if code, body := s3.get(t, "/readyz"); code != 200 {
		t.Fatalf("/readyz after kill -9 of serve and postmaster: %d %s", code, body)
	}
	s3.stop(t)
}

func TestCommandStartsAndStopsTheClusterWhenNoServeRuns(t *testing.T) {
	dir := dataDir(t)
	out, err := bifrostCmd(dir, nil, "migrate").CombinedOutput()
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`applied [1-9]\d* migration\(s\); schema is at version \d+`).Match(out) {
		t.Errorf("migrate output: %s", out)
	}
	if pid := postmasterPID(dir); processAlive(pid) {
		t.Errorf("migrate left the private cluster running (pid %d)", pid)
	}
	out, err = bifrostCmd(dir, nil, "migrate").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "applied 0 migration(s)") {
		t.Errorf("second migrate: %v\n%s", err, out)
	}
}

func TestStartupErrorsAreOneLine(t *testing.T) {
	badConfig := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(badConfig, []byte("sip:\n  adress: :5060\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := dataDir(t)
	tests := []struct {
		name   string
		args   []string
		env    []string
		want   string
		wantRC int
	}{
		{"an unknown config key", []string{"--config", badConfig, "serve"}, nil, `unknown key "sip.adress"`, 1},
		{"a bad port range", []string{"serve"}, []string{"BIFROST_RTP_PORT_MIN=5000", "BIFROST_RTP_PORT_MAX=4000"}, "port_max must be above port_min", 1},
		{"an unreachable database", []string{"serve"}, []string{"BIFROST_DATABASE_URL=postgres://bifrost:topsecret@127.0.0.1:1/bifrost?sslmode=disable&connect_timeout=2"}, "unreachable", 1},
		{"an unknown command", []string{"frobnicate"}, nil, `unknown command "frobnicate"`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := bifrostCmd(dir, tt.env, tt.args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			_ = cmd.Run()
			if rc := cmd.ProcessState.ExitCode(); rc != tt.wantRC {
				t.Errorf("exit status %d, want %d", rc, tt.wantRC)
			}
			first, _, _ := strings.Cut(stderr.String(), "\n")
			if !strings.Contains(first, tt.want) {
				t.Errorf("first stderr line %q lacks %q", first, tt.want)
			}
			if strings.Contains(stderr.String(), "goroutine ") || strings.Contains(stderr.String(), "topsecret") {
				t.Errorf("stderr has a stack trace or a password:\n%s", stderr.String())
			}
			if tt.wantRC == 1 && strings.Count(strings.TrimSpace(stderr.String()), "\n") > 0 {
				t.Errorf("the error is not one line:\n%s", stderr.String())
			}
		})
	}
}

func TestServeRefusesANewerSchema(t *testing.T) {
	url := pgtest.NewURL(t)
	db, err := sqlx.Connect("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO schema_version (version, name) VALUES (9999, 'from the future')`); err != nil {
		t.Fatal(err)
	}
	cmd := bifrostCmd(dataDir(t), []string{"BIFROST_DATABASE_URL=" + url}, "serve")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("serve started on a schema newer than it knows")
	}
	if !strings.Contains(string(out), "newer") {
		t.Errorf("serve's refusal does not say why: %s", out)
	}
}

func TestHelpListsCommands(t *testing.T) {
	out, err := exec.Command(binary, "help").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"serve", "migrate", "version"} {
		if !strings.Contains(string(out), "  "+c) {
			t.Errorf("help lacks %s:\n%s", c, out)
		}
	}
}
