package directory

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// procCPU sums the CPU time (user + system, from /proc/PID/stat) of the
// processes whose command line contains every one of match, for the sync
// benchmark's CPU accounting of slapd and of the test database's PostgreSQL
// backends ("postgres: USER DB ..."). Processes that exit between two calls
// take their time with them, so it is a lower bound; on a machine shared by
// many it is still far steadier than wall-clock time.
func procCPU(match ...string) time.Duration {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	tick := 100 // USER_HZ on Linux
	var total time.Duration
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmd = bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})
		ok := true
		for _, m := range match {
			if !bytes.Contains(cmd, []byte(m)) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The fields after the command name in parentheses; utime and stime
		// are fields 14 and 15 of stat(5).
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(ut+st) * time.Second / time.Duration(tick)
	}
	return total
}
