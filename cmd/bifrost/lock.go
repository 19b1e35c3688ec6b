package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// dataDirLock is an exclusive flock on <data_dir>/bifrost.lock, held by
// `bifrost serve` for its whole life. The kernel drops it when the process dies,
// even by kill -9, so a stale lock file never blocks a restart.
type dataDirLock struct{ f *os.File }

// errLocked is returned when another serve holds the lock.
var errLocked = errors.New("data directory is in use")

// lockDataDir takes the lock or explains who holds it.
func lockDataDir(dir string) (*dataDirLock, error) {
	path := filepath.Join(dir, "bifrost.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		_ = f.Close()
		holder := strings.TrimSpace(string(b))
		if holder == "" {
			holder = "unknown"
		}
		return nil, fmt.Errorf("%w: another bifrost serve (pid %s) runs on %s; stop it first or choose another data_dir", errLocked, holder, dir)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &dataDirLock{f: f}, nil
}

// serveRunning reports whether a serve holds the lock of dir right now.
func serveRunning(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "bifrost.lock"))
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return true
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

func (l *dataDirLock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
	l.f = nil
}
