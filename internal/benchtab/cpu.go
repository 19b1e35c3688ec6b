package benchtab

import (
	"os"
	"syscall"
	"time"
)

// rusageThread is RUSAGE_THREAD of getrusage(2) (Linux ≥ 2.6.26), which the
// syscall package does not name.
const rusageThread = 1

// ProcessCPU is the user plus system CPU time this process has used so far,
// from getrusage(RUSAGE_SELF): every thread, the garbage collector included.
func ProcessCPU() time.Duration {
	return rusage(syscall.RUSAGE_SELF)
}

// ThreadCPU is the CPU time the calling OS thread has used so far, from
// getrusage(RUSAGE_THREAD). It is meaningful only between
// runtime.LockOSThread and UnlockOSThread, for single-goroutine work.
func ThreadCPU() time.Duration {
	return rusage(rusageThread)
}

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return tv(ru.Utime) + tv(ru.Stime)
}

// ChildCPU is the CPU time a child process used, once it has exited (from
// the rusage wait4(2) returned). It is 0 for a process that has not exited.
func ChildCPU(ps *os.ProcessState) time.Duration {
	if ps == nil {
		return 0
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0
	}
	return tv(ru.Utime) + tv(ru.Stime)
}

func tv(t syscall.Timeval) time.Duration {
	return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
}
