package pglocal

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// serverUser is the OS user that runs initdb, pg_ctl and the server.
type serverUser struct {
	name   string
	uid    int
	gid    int
	groups []int // supplementary groups
	// switch is true when this process is root and must run PostgreSQL's
	// programs as another user, which PostgreSQL requires.
	switchUser bool
}

// lookupServerUser returns the current user, or the OS user postgres when
// the process is root.
func lookupServerUser() (serverUser, error) {
	if os.Geteuid() != 0 {
		groups, _ := os.Getgroups()
		name := strconv.Itoa(os.Geteuid())
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
		return serverUser{name: name, uid: os.Geteuid(), gid: os.Getegid(), groups: groups}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return serverUser{}, fmt.Errorf("pglocal: running as root, and PostgreSQL refuses root, but the OS user postgres to run it as is missing (%w); install Debian package postgresql or run as a non-root user", err)
	}
	su := serverUser{name: u.Username, switchUser: true}
	if su.uid, err = strconv.Atoi(u.Uid); err != nil {
		return serverUser{}, fmt.Errorf("pglocal: user postgres: uid %q: %w", u.Uid, err)
	}
	if su.gid, err = strconv.Atoi(u.Gid); err != nil {
		return serverUser{}, fmt.Errorf("pglocal: user postgres: gid %q: %w", u.Gid, err)
	}
	gids, _ := u.GroupIds()
	for _, g := range gids {
		if n, err := strconv.Atoi(g); err == nil {
			su.groups = append(su.groups, n)
		}
	}
	return su, nil
}

// command returns a command that runs as the server user in dir, with the
// PG* environment variables removed so that none of them redirects it.
func (u serverUser) command(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if u.switchUser {
		groups := make([]uint32, 0, len(u.groups))
		for _, g := range u.groups {
			groups = append(groups, uint32(g))
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
			Uid: uint32(u.uid), Gid: uint32(u.gid), Groups: groups,
		}}
		cmd.Env = append(cmd.Env, "USER="+u.name, "LOGNAME="+u.name)
	}
	return cmd
}

// chown hands path to the server user when this process runs as root.
func (u serverUser) chown(path string) error {
	if !u.switchUser {
		return nil
	}
	if err := os.Chown(path, u.uid, u.gid); err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	return nil
}

// checkTraversable checks that the server user may pass through path and
// each of its existing ancestors, naming the first that it may not and the
// fix, rather than leaving initdb or the server to fail cryptically.
func (u serverUser) checkTraversable(path string) error {
	if u.uid == 0 {
		return nil
	}
	var dirs []string
	for d := filepath.Clean(path); ; d = filepath.Dir(d) {
		dirs = append(dirs, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for _, d := range slices.Backward(dirs) {
		fi, err := os.Stat(d)
		if os.IsNotExist(err) {
			return nil // created later, by us
		}
		if err != nil {
			return fmt.Errorf("pglocal: %w", err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		perm := fi.Mode().Perm()
		var bit os.FileMode
		var who string
		switch {
		case int(st.Uid) == u.uid:
			bit, who = 0o100, "u"
		case int(st.Gid) == u.gid || slices.Contains(u.groups, int(st.Gid)):
			bit, who = 0o010, "g"
		default:
			bit, who = 0o001, "o"
		}
		if perm&bit == 0 {
			return fmt.Errorf("pglocal: directory %s is not traversable by OS user %s, who runs PostgreSQL; fix: chmod %s+x %s, or choose another directory", d, u.name, who, d)
		}
	}
	return nil
}
