package cdr

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// Delivery posts queued sink events, per sink in sequence order, one at a time:
// an event is deleted from the queue once the receiver answered 2xx, and
// retried with exponential back-off otherwise. Each sink is delivered by its
// own goroutine, so a dead or slow receiver delays only itself; the writer
// only ever inserts into the queue. A transaction-level advisory lock per sink
// keeps two bridge nodes from delivering the same sink at once.
type Delivery struct {
	DB *sqlx.DB
	// Key is the deployment's secret key, which opens the sinks' stored
	// credentials.
	Key []byte
	// PollInterval is how often the queue is looked at. Default 1s.
	PollInterval time.Duration
	// Timeout bounds one POST. Default 10s.
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before a retry, doubled per
	// failed attempt. Defaults 1s and 10m.
	MinBackoff, MaxBackoff time.Duration
	// Now is the clock. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger

	once      sync.Once
	mu        sync.Mutex
	inFlight  map[string]bool
	clients   [2]*http.Client // [0] verifies TLS, [1] does not
	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

func (d *Delivery) init() {
	d.once.Do(func() {
		if d.PollInterval <= 0 {
			d.PollInterval = time.Second
		}
		if d.Timeout <= 0 {
			d.Timeout = 10 * time.Second
		}
		if d.MinBackoff <= 0 {
			d.MinBackoff = time.Second
		}
		if d.MaxBackoff <= 0 {
			d.MaxBackoff = 10 * time.Minute
		}
		if d.Now == nil {
			d.Now = time.Now
		}
		if d.Logger == nil {
			d.Logger = slog.New(slog.DiscardHandler)
		}
		d.inFlight = map[string]bool{}
		d.stop = make(chan struct{})
		for i, verify := range []bool{true, false} {
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: !verify, MinVersion: tls.VersionTLS12} //nolint:gosec // per sink, the admin's choice
			d.clients[i] = &http.Client{Transport: tr, Timeout: d.Timeout,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		}
	})
}

// Start polls the queue until Close.
func (d *Delivery) Start() {
	d.init()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		t := time.NewTicker(d.PollInterval)
		defer t.Stop()
		for {
			d.Poll()
			select {
			case <-d.stop:
				return
			case <-t.C:
			}
		}
	}()
}

// Close stops polling and waits for deliveries in flight. It is idempotent.
func (d *Delivery) Close() error {
	d.init()
	d.closeOnce.Do(func() { close(d.stop) })
	d.wg.Wait()
	return nil
}

// Poll starts a delivery goroutine for every sink with an event due and none
// in flight.
func (d *Delivery) Poll() {
	d.init()
	ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
	defer cancel()
	var due []string
	err := d.DB.SelectContext(ctx, &due, `
		SELECT s.id FROM cdr_sinks s
		WHERE s.enabled AND EXISTS (SELECT 1 FROM cdr_sink_queue q WHERE q.sink_id = s.id)`)
	if err != nil {
		d.Logger.Warn("cdr: sink queue", "err", err)
		return
	}
	for _, id := range due {
		d.mu.Lock()
		busy := d.inFlight[id]
		d.inFlight[id] = true
		d.mu.Unlock()
		if busy {
			continue
		}
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer func() {
				d.mu.Lock()
				delete(d.inFlight, id)
				d.mu.Unlock()
			}()
			for d.deliverNext(id) {
				select {
				case <-d.stop:
					return
				default:
				}
			}
		}()
	}
}

type queued struct {
	Seq           int64           `db:"seq"`
	Event         string          `db:"event"`
	Payload       json.RawMessage `db:"payload"`
	CreatedAt     time.Time       `db:"created_at"`
	Attempts      int             `db:"attempts"`
	NextAttemptAt time.Time       `db:"next_attempt_at"`
}

// SinkMessage is the JSON body POSTed to a sink. Delivery is at least once: an
// event whose answer was lost (a timeout) is sent again with the same Seq, so a
// receiver keeps the highest Seq it took and acknowledges repeats.
type SinkMessage struct {
	Seq       int64           `json:"seq"` // per sink, from 1, without gaps
	Event     string          `json:"event"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// deliveryLockClass is the first key of the advisory locks that keep two
// nodes from delivering one sink ("cdr!" in ASCII).
const deliveryLockClass int32 = 0x63647221

// deliverNext posts the sink's oldest event if it is due, and reports whether
// to go on with the next one.
func (d *Delivery) deliverNext(sinkID string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*d.Timeout)
	defer cancel()
	tx, err := d.DB.BeginTxx(ctx, nil)
	if err != nil {
		return false
	}
	defer tx.Rollback()
	// An advisory lock, not a row lock: the writer updates the sink's row
	// (last_seq) for every event and must never wait for a slow receiver.
	var mine bool
	if err := tx.GetContext(ctx, &mine, `SELECT pg_try_advisory_xact_lock($1, hashtext($2))`, deliveryLockClass, sinkID); err != nil || !mine {
		return false // another node is on it
	}
	sink, err := getSink(ctx, tx, sinkID)
	if err != nil || !sink.Enabled {
		return false // gone or disabled
	}
	if err := sink.openSecret(d.Key); err != nil {
		d.Logger.Error("cdr: sink credentials cannot be opened (was secret_key changed?); not delivering", "sink_id", sinkID, "err", err)
		return false
	}
	var q queued
	err = tx.GetContext(ctx, &q, `SELECT seq, event, payload, created_at, attempts, next_attempt_at
		FROM cdr_sink_queue WHERE sink_id = $1 ORDER BY seq LIMIT 1`, sinkID)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && q.NextAttemptAt.After(d.Now())) {
		return false
	}
	if err != nil {
		d.Logger.Warn("cdr: sink queue", "sink_id", sinkID, "err", err)
		return false
	}
	perr := d.post(ctx, sink, q)
	if perr == nil {
		_, err = tx.ExecContext(ctx, `DELETE FROM cdr_sink_queue WHERE sink_id = $1 AND seq = $2`, sinkID, q.Seq)
	} else {
		wait := d.backoff(q.Attempts)
		d.Logger.Info("cdr: sink delivery failed, will retry", "sink_id", sinkID, "seq", q.Seq, "attempt", q.Attempts+1, "retry_in", wait, "err", perr)
		_, err = tx.ExecContext(ctx, `UPDATE cdr_sink_queue SET attempts = attempts + 1, next_attempt_at = $3, last_error = $4
			WHERE sink_id = $1 AND seq = $2`, sinkID, q.Seq, d.Now().Add(wait), truncate(perr.Error(), 500))
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		d.Logger.Warn("cdr: sink queue", "sink_id", sinkID, "err", err)
		return false
	}
	return perr == nil
}

func (d *Delivery) backoff(attempts int) time.Duration {
	wait := d.MinBackoff
	for range attempts {
		wait *= 2
		if wait >= d.MaxBackoff {
			return d.MaxBackoff
		}
	}
	return wait
}

func (d *Delivery) post(ctx context.Context, s Sink, q queued) error {
	body, err := json.Marshal(SinkMessage{Seq: q.Seq, Event: q.Event, CreatedAt: q.CreatedAt, Data: q.Payload})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Bifrost-Sequence", strconv.FormatInt(q.Seq, 10))
	switch s.Auth {
	case "basic":
		req.SetBasicAuth(s.Username, s.Secret)
	case "bearer":
		req.Header.Set("Authorization", "Bearer "+s.Secret)
	}
	c := d.clients[0]
	if !s.TLSVerify {
		c = d.clients[1]
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
