package sipcall

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/bifrost-video/bifrost/bridge"
)

// TestSIPp has SIPp, a third-party SIP implementation, send OPTIONS and
// require 200 with INVITE in Allow (testdata/options.xml).
func TestSIPp(t *testing.T) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sipp not on PATH; install the Debian package sip-tester (make deps)")
		}
		t.Skip("sipp not on PATH; install the Debian package sip-tester")
	}
	scenario, err := filepath.Abs(filepath.Join("testdata", "options.xml"))
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "")
	tests := []struct {
		name      string
		transport string
	}{
		{"SIPp gets 200 to OPTIONS over UDP", "u1"},
		{"SIPp gets 200 to OPTIONS over TCP", "t1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 3*waitTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, sipp,
				"-sf", scenario, "-m", "1", "-nostdin",
				"-timeout", "10s", "-timeout_error",
				"-t", tt.transport,
				"-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)),
				s.UDPAddr().String())
			cmd.Dir = t.TempDir() // SIPp may write its logs to the working directory
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("sipp: %v\n%s", err, out)
			}
		})
	}
}

// freePort returns a port free for both UDP and TCP on 127.0.0.1 a moment
// ago.
func freePort(t *testing.T) int {
	t.Helper()
	udp, tcp, err := bind(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := udp.LocalAddr().(*net.UDPAddr).Port
	_ = udp.Close()
	_ = tcp.Close()
	return port
}

// TestSIPpCalls has SIPp place calls the bridge refuses or the caller
// cancels: an unknown room (404), a full room (486) and a CANCEL before
// the answer (200 to the CANCEL, 487 to the INVITE).
func TestSIPpCalls(t *testing.T) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sipp not on PATH; install the Debian package sip-tester (make deps)")
		}
		t.Skip("sipp not on PATH; install the Debian package sip-tester")
	}
	tests := []struct {
		name     string
		scenario string
		service  string
		rooms    *fakeRooms
	}{
		{"an unknown room gets 404", "invite_404.xml", "9999", &fakeRooms{}},
		{"a full room gets 486", "invite_486.xml", "1234", &fakeRooms{admitErr: bridge.ErrRoomFull}},
		{"a CANCEL before the answer gets 200 and the INVITE 487", "cancel_487.xml", "1234",
			&fakeRooms{admitHook: func(ctx context.Context) { <-ctx.Done() }}},
	}
	for _, tt := range tests {
		for _, transport := range []string{"u1", "t1"} {
			t.Run(tt.name+" over "+transport, func(t *testing.T) {
				scenario, err := filepath.Abs(filepath.Join("testdata", tt.scenario))
				if err != nil {
					t.Fatal(err)
				}
				s := startCallServer(t, tt.rooms, nil)
				ctx, cancel := context.WithTimeout(t.Context(), 3*waitTimeout)
				defer cancel()
				cmd := exec.CommandContext(ctx, sipp,
					"-sf", scenario, "-m", "1", "-nostdin",
					"-timeout", "10s", "-timeout_error",
					"-t", transport, "-s", tt.service,
					"-i", "127.0.0.1", "-p", strconv.Itoa(freePort(t)),
					"-mp", strconv.Itoa(freePort(t)),
					s.UDPAddr().String())
				cmd.Dir = t.TempDir()
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("sipp: %v\n%s", err, out)
				}
				waitFor(t, "no calls and no ports", func() bool { return s.ActiveCalls() == 0 && s.pool.inUse() == 0 })
			})
		}
	}
}
