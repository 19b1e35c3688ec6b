package pglocal

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// pidFile is what the postmaster writes to DATA/postmaster.pid; see
// src/include/utils/pidfile.h (LOCK_FILE_LINE_*).
type pidFile struct {
	pid       int
	port      int
	socketDir string
	status    string // "starting", "stopping", "ready" or "standby"
}

func readPidFile(dataDir string) (pidFile, bool) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return pidFile{}, false
	}
	lines := strings.Split(string(b), "\n")
	line := func(n int) string { // 1-based, as in pidfile.h
		if n <= len(lines) {
			return strings.TrimSpace(lines[n-1])
		}
		return ""
	}
	var pf pidFile
	pf.pid, _ = strconv.Atoi(line(1))
	pf.port, _ = strconv.Atoi(line(4))
	pf.socketDir = line(5)
	pf.status = line(8)
	return pf, true
}

// isPostmaster reports whether pid is a live postgres process serving
// dataDir: its command line (or executable) is postgres or postmaster, and
// when it names a data directory with -D that is dataDir. A PID that a killed
// postmaster left behind may since belong to anything.
func isPostmaster(pid int, dataDir string) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil || len(raw) == 0 {
		return false // gone, or a zombie
	}
	args := strings.Split(string(bytes.TrimRight(raw, "\x00")), "\x00")
	name := filepath.Base(args[0])
	if name != "postgres" && name != "postmaster" {
		exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe"))
		if err != nil {
			return false
		}
		if n := filepath.Base(exe); n != "postgres" && n != "postmaster" {
			return false
		}
	}
	for i, a := range args {
		if a == "-D" && i+1 < len(args) {
			return sameDir(args[i+1], dataDir)
		}
	}
	return true
}

func sameDir(a, b string) bool {
	if ra, err := filepath.EvalSymlinks(a); err == nil {
		a = ra
	}
	if rb, err := filepath.EvalSymlinks(b); err == nil {
		b = rb
	}
	return filepath.Clean(a) == filepath.Clean(b)
}
