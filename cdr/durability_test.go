package cdr

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/migrations"
	"github.com/bifrost-video/bifrost/migrations/pglocal"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// helperEnv makes the test binary a writer process that the crash test kills.
const helperEnv = "BIFROST_CDR_TEST_HELPER"

type helperArgs struct {
	DatabaseURL string
	SpoolDir    string
	Now         time.Time
	Start       ConferenceStart
	Leg         LegStart
}

// helperMain opens a writer, stores a conference with an open leg, says
// "ready" and waits to be killed, heartbeating at the fixed clock's time.
func helperMain() int {
	var a helperArgs
	if err := json.Unmarshal([]byte(os.Getenv(helperEnv)), &a); err != nil {
		fmt.Println("bad args:", err)
		return 2
	}
	db, err := sqlx.Open("postgres", a.DatabaseURL)
	if err != nil {
		fmt.Println(err)
		return 2
	}
	w, err := Open(db, Config{SpoolDir: a.SpoolDir, Node: "crashy", HeartbeatInterval: 5 * time.Millisecond,
		RetryInterval: 10 * time.Millisecond, Now: func() time.Time { return a.Now }})
	if err != nil {
		fmt.Println(err)
		return 2
	}
	w.ConferenceStarted(a.Start)
	w.LegStarted(a.Leg)
	if err := w.Flush(context.Background()); err != nil {
		fmt.Println(err)
		return 2
	}
	fmt.Println("ready")
	select {}
}

func TestCrashedLegIsClosedWithBridgeRestart(t *testing.T) {
	t.Parallel()
	url := pgtest.NewURL(t)
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org := newOrg(t, db, "Acme")
	cs, ls, _, _, _ := call(org, t0, "alice")
	heartbeatAt := t0.Add(5 * time.Minute)
	spoolDir := t.TempDir()
	args, _ := json.Marshal(helperArgs{DatabaseURL: url, SpoolDir: spoolDir, Now: heartbeatAt, Start: cs, Leg: ls})

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(args))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A helper that never gets ready is killed, which ends the read below.
	stuck := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	stuck.Stop()
	if strings.TrimSpace(line) != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q, want ready", line)
	}
	waitFor(t, "the helper's heartbeat", func() bool {
		return count(t, db, `SELECT count(*) FROM cdr_legs WHERE id = $1 AND heartbeat_at = $2`, ls.ID, heartbeatAt) == 1
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// A leg of another node stays open: that node is alive.
	other := ls
	other.ID = uuid(3)
	if _, err := db.Exec(`INSERT INTO cdr_legs (id, conference_id, organisation_id, node, direction, protocol, started_at)
		VALUES ($1, $2, $3, 'other', 'in', 'sip', $4)`, other.ID, cs.ID, org, t0); err != nil {
		t.Fatal(err)
	}

	w := openWriter(t, db, Config{SpoolDir: spoolDir, Node: "crashy"})
	flush(t, w, "the recovery")
	var reason string
	var ended time.Time
	var duration string
	if err := db.QueryRow(`SELECT end_reason, ended_at, duration::text FROM cdr_legs WHERE id = $1`, ls.ID).Scan(&reason, &ended, &duration); err != nil {
		t.Fatal(err)
	}
	if reason != "bridge_restart" || !ended.Equal(heartbeatAt) || duration != "00:04:59" {
		t.Errorf("crashed leg: reason %q ended %v duration %s, want bridge_restart at the last heartbeat %v, 00:04:59", reason, ended, duration, heartbeatAt)
	}
	if n := count(t, db, `SELECT count(*) FROM cdr_legs WHERE id = $1 AND ended_at IS NULL`, other.ID); n != 1 {
		t.Error("the other node's open leg was closed")
	}
}

// privateCluster starts a PostgreSQL cluster of the test's own, which it may
// stop and start without disturbing the package's other tests.
func privateCluster(t *testing.T) (*pglocal.Cluster, *sqlx.DB) {
	t.Helper()
	pgtest.Cluster(t) // skips (or fails in CI) like every store test when PostgreSQL is missing
	dir, err := os.MkdirTemp("", "bifrost-cdr-pg-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pglocal.Open(ctx, pglocal.Options{Dir: filepath.Join(dir, "pg"), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c.Stop(ctx)
		os.RemoveAll(dir)
	})
	if err := c.EnsureDatabase(ctx, "bifrost"); err != nil {
		t.Fatal(err)
	}
	db, err := sqlx.Open("postgres", c.URL("bifrost"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := migrations.Apply(ctx, db); err != nil {
		t.Fatal(err)
	}
	return c, db
}

func TestEveryRecordArrivesOnceAcrossADatabaseOutage(t *testing.T) {
	cluster, db := privateCluster(t)
	org := newOrg(t, db, "Acme")
	if _, err := db.Exec(`INSERT INTO cdr_sinks (organisation_id, name, url) VALUES ($1, 'siem', 'http://127.0.0.1:1/')`, org); err != nil {
		t.Fatal(err)
	}
	spoolDir := t.TempDir()
	w := openWriter(t, db, Config{SpoolDir: spoolDir, QueueSize: 8, BatchSize: 4})
	ctx := context.Background()

	const before, during = 10, 30
	type callEvents struct {
		cs ConferenceStart
		ls LegStart
		lq LegQuality
		le LegEnd
		ce ConferenceEnd
	}
	var calls []callEvents
	for i := range before + during {
		var c callEvents
		c.cs, c.ls, c.lq, c.le, c.ce = call(org, t0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("p%d", i))
		calls = append(calls, c)
	}
	// Calls that started before the outage end during it.
	for _, c := range calls[:before] {
		w.ConferenceStarted(c.cs)
		w.LegStarted(c.ls)
	}
	flush(t, w, "the calls before the outage")
	if err := cluster.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range calls[:before] {
		w.LegQuality(c.lq)
		w.LegEnded(c.le)
		w.ConferenceEnded(c.ce)
	}
	for _, c := range calls[before:] {
		submitCall(w, c.cs, c.ls, c.lq, c.le, c.ce)
	}
	waitFor(t, "events to reach the spool", func() bool { return w.Stats().Spooled >= int64(5*during) })
	// Restart the writer too while the database is still away: the spool
	// survives it.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = openWriter(t, db, Config{SpoolDir: spoolDir, QueueSize: 8, BatchSize: 4})
	extra := callEvents{}
	extra.cs, extra.ls, extra.lq, extra.le, extra.ce = call(org, t0.Add(time.Hour), "late")
	submitCall(w, extra.cs, extra.ls, extra.lq, extra.le, extra.ce)
	calls = append(calls, extra)

	if err := cluster.Start(ctx); err != nil {
		t.Fatal(err)
	}
	flush(t, w, "the spool replay")
	n := len(calls)
	if got := count(t, db, `SELECT count(*) FROM cdr_conferences WHERE ended_at IS NOT NULL AND peak_participants = 1`); got != n {
		t.Errorf("%d ended conferences, want %d", got, n)
	}
	if got := count(t, db, `SELECT count(*) FROM cdr_legs WHERE end_reason = 'hung_up' AND packets_lost = 100`); got != n {
		t.Errorf("%d legs ended normally with their final quality, want %d", got, n)
	}
	if got := count(t, db, `SELECT count(*) FROM cdr_sink_queue`); got != 4*n {
		t.Errorf("%d sink events, want %d: four per call, once each", got, 4*n)
	}
	if got := count(t, db, `SELECT count(DISTINCT seq) FROM cdr_sink_queue WHERE seq BETWEEN 1 AND $1`, 4*n); got != 4*n {
		t.Errorf("sink sequence numbers are not 1..%d", 4*n)
	}
	for _, name := range []string{tailSpoolName, headSpoolName} {
		if st, err := os.Stat(filepath.Join(spoolDir, name)); err != nil || st.Size() != 0 {
			t.Errorf("%s not empty after the replay (%v)", name, err)
		}
	}
}
