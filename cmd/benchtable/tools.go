package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// tools finds (and builds, once) the programs the harnesses run as child
// processes, so their CPU is not counted as this process's.
type tools struct {
	dir    string // scratch directory, for binaries and SIPp's logs
	module string // the module's root directory (for testdata)

	loadBin   string // bifrost-load; built from this module when empty
	buildOnce sync.Once
	buildErr  error
}

// bifrostLoad returns the path of the bifrost-load binary, building it
// from this module on first use.
func (t *tools) bifrostLoad(ctx context.Context) (string, error) {
	t.buildOnce.Do(func() {
		if t.loadBin != "" {
			return
		}
		out := filepath.Join(t.dir, "bifrost-load")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/bifrost-video/bifrost/cmd/bifrost-load")
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.buildErr = fmt.Errorf("go build bifrost-load: %v\n%s", err, msg)
			return
		}
		t.loadBin = out
	})
	return t.loadBin, t.buildErr
}

// sipp is the path of SIPp (Debian sip-tester), or an error saying how to
// get it.
func (t *tools) sipp() (string, error) {
	p, err := exec.LookPath("sipp")
	if err != nil {
		return "", fmt.Errorf("sipp not on PATH; install the Debian package sip-tester (make deps)")
	}
	return p, nil
}

// child is a started child process with its output kept for errors.
type child struct {
	cmd *exec.Cmd
	out bytes.Buffer
}

func startChild(ctx context.Context, dir, name string, args ...string) (*child, error) {
	c := &child{cmd: exec.CommandContext(ctx, name, args...)}
	c.cmd.Dir = dir
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	return c, nil
}

// wait waits for the child and returns an error with the tail of its
// output when it failed.
func (c *child) wait() error {
	if err := c.cmd.Wait(); err != nil {
		out := strings.TrimSpace(c.out.String())
		if len(out) > 600 {
			out = "…" + out[len(out)-600:]
		}
		return fmt.Errorf("%s: %v: %s", filepath.Base(c.cmd.Path), err, out)
	}
	return nil
}

// waitFor polls cond every 10 ms until it holds or limit passes.
func waitFor(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up after %s waiting for %s", limit, what)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// scratchDir makes a directory for a child's files under t.dir.
func (t *tools) scratchDir() (string, error) {
	return os.MkdirTemp(t.dir, "run-")
}

// findModule is the directory of the go.mod above the working directory.
func findModule() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory: run benchtable from the Bifrost module")
		}
		dir = parent
	}
}
