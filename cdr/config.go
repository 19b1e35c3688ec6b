package cdr

import (
	"errors"
	"log/slog"
	"os"
	"time"
)

// Config configures the Writer.
type Config struct {
	// SpoolDir holds the spool files; the data directory of the binary.
	SpoolDir string
	// Node names this bridge node; on start the writer closes the legs this node
	// left open. Default: the host name.
	Node string
	// QueueSize is how many events wait in memory before callers spill them to
	// the spool. Default 4096.
	QueueSize int
	// BatchSize is how many events go into one transaction. Default 256.
	BatchSize int
	// RetryInterval is how often the writer tries the database again while it is
	// unreachable, and replays the spool. Default 1s.
	RetryInterval time.Duration
	// SyncInterval is how often events spilled by callers are fsync'd. Default 200ms.
	SyncInterval time.Duration
	// HeartbeatInterval is how often open legs are marked alive. Default 30s.
	HeartbeatInterval time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives the writer's own log lines (never personal data). Default: discard.
	Logger *slog.Logger
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Node == "" {
		c.Node, _ = os.Hostname()
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 4096
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 256
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = time.Second
	}
	if c.SyncInterval <= 0 {
		c.SyncInterval = 200 * time.Millisecond
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports a configuration the writer cannot run with.
func (c Config) Validate() error {
	if c.SpoolDir == "" {
		return errors.New("cdr: spool directory must be set")
	}
	return nil
}
