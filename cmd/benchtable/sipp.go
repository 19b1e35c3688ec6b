package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// sipCall is the SIPp run of sip_cpu_per_call: calls calls of pause at
// rate calls per second with testdata/uac_call.xml.
type sipCall struct {
	calls int
	rate  int
	pause time.Duration
}

func (c sipCall) count(size float64) int { return max(3, int(float64(c.calls)*size)) }

// pauseFor is the call's length at size: shorter in a smoke run.
func (c sipCall) pauseFor(size float64) time.Duration {
	return max(100*time.Millisecond, time.Duration(float64(c.pause)*min(size, 1)))
}

// uac starts SIPp's UAC against target with the scenario.
func (c sipCall) uac(ctx context.Context, t *tools, n int, pause time.Duration, target string) (*child, error) {
	sipp, err := t.sipp()
	if err != nil {
		return nil, err
	}
	scenario, err := filepath.Abs(filepath.Join(t.module, "cmd", "benchtable", "testdata", "uac_call.xml"))
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	mport, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := t.scratchDir()
	if err != nil {
		return nil, err
	}
	return startChild(ctx, dir, sipp, "-sf", scenario, "-m", itoa(n), "-r", itoa(c.rate),
		"-d", strconv.FormatInt(pause.Milliseconds(), 10), "-nostdin", "-timeout", "60s", "-timeout_error",
		"-t", "u1", "-s", benchRoom.Alias, "-i", "127.0.0.1", "-p", itoa(port), "-mp", itoa(mport), target)
}

// sipCPUBifrost is the subject: the calls against a bridge in this
// process; its CPU is this process's over the run (SIPp's is its own).
func sipCPUBifrost(t *tools, c sipCall) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		tb, err := startBridge()
		if err != nil {
			return benchtab.Sample{}, err
		}
		defer tb.Close()
		n := c.count(size)
		cpu0 := benchtab.ProcessCPU()
		uac, err := c.uac(ctx, t, n, c.pauseFor(size), tb.srv.UDPAddr().String())
		if err != nil {
			return benchtab.Sample{}, err
		}
		if err := uac.wait(); err != nil {
			return benchtab.Sample{}, fmt.Errorf("a call failed against Bifrost: %w", err)
		}
		if err := waitFor(ctx, 10*time.Second, "the bridge to end every call", func() bool { return tb.participants() == 0 }); err != nil {
			return benchtab.Sample{}, err
		}
		return benchtab.Sample{Work: float64(n), CPU: max(benchtab.ProcessCPU()-cpu0, 1)}, nil
	}
}

// sipCPUSIPp is the reference: the same calls against SIPp's built-in
// UAS (-sn uas); its CPU is the UAS process's, from wait4.
func sipCPUSIPp(t *tools, c sipCall) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		sipp, err := t.sipp()
		if err != nil {
			return benchtab.Sample{}, err
		}
		n := c.count(size)
		port, err := freePort()
		if err != nil {
			return benchtab.Sample{}, err
		}
		dir, err := t.scratchDir()
		if err != nil {
			return benchtab.Sample{}, err
		}
		uas, err := startChild(ctx, dir, sipp, "-sn", "uas", "-m", itoa(n), "-nostdin", "-timeout", "60s",
			"-t", "u1", "-i", "127.0.0.1", "-p", itoa(port))
		if err != nil {
			return benchtab.Sample{}, err
		}
		if err := waitFor(ctx, 10*time.Second, "SIPp's UAS to bind its port", func() bool { return udpBound(port) }); err != nil {
			_ = uas.cmd.Process.Kill()
			_ = uas.wait()
			return benchtab.Sample{}, err
		}
		uac, err := c.uac(ctx, t, n, c.pauseFor(size), "127.0.0.1:"+itoa(port))
		if err != nil {
			_ = uas.cmd.Process.Kill()
			_ = uas.wait()
			return benchtab.Sample{}, err
		}
		uacErr := uac.wait()
		uasErr := uas.wait()
		if uacErr != nil {
			return benchtab.Sample{}, fmt.Errorf("a call failed against SIPp's UAS: %w", uacErr)
		}
		if uasErr != nil {
			return benchtab.Sample{}, uasErr
		}
		return benchtab.Sample{Work: float64(n), CPU: max(benchtab.ChildCPU(uas.cmd.ProcessState), 1)}, nil
	}
}

// udpBound reports whether something holds UDP port on 127.0.0.1.
func udpBound(port int) bool {
	c, err := net.ListenPacket("udp", "127.0.0.1:"+itoa(port))
	if err != nil {
		return true
	}
	_ = c.Close()
	return false
}
