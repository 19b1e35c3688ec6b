package cdr

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// applyBatch stores events in one transaction, in order. Every statement is
// idempotent on the bridge's UUIDs, so a batch applied twice (a spool replayed
// after a crash) leaves the same rows, and queues sink events only once.
func applyBatch(ctx context.Context, db *sqlx.DB, node string, events []Event) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cdr: begin: %w", err)
	}
	defer tx.Rollback()
	for i := range events {
		if err := applyEvent(ctx, tx, node, &events[i]); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cdr: commit: %w", err)
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// applyEvent runs the statement of one event in tx.
func applyEvent(ctx context.Context, tx *sqlx.Tx, node string, e *Event) error {
	if err := e.validate(); err != nil {
		return err
	}
	var org string
	var err error
	switch e.Kind {
	case KindConferenceStarted:
		c := e.ConferenceStart
		var res sql.Result
		res, err = tx.ExecContext(ctx, `
			INSERT INTO cdr_conferences (id, organisation_id, room_id, room_name, started_at, had_pin)
			VALUES ($1, $2, NULLIF($3, '')::uuid, $4, $5, $6)
			ON CONFLICT (id) DO NOTHING`,
			c.ID, c.OrganisationID, c.RoomID, c.RoomName, c.StartedAt, c.HasPIN)
		if err == nil && affected(res) {
			org = c.OrganisationID
		}
	case KindConferenceEnded:
		c := e.ConferenceEnd
		err = tx.GetContext(ctx, &org, `
			UPDATE cdr_conferences SET ended_at = $2, peak_participants = $3, was_locked = was_locked OR $4
			WHERE id = $1 AND ended_at IS NULL RETURNING organisation_id`,
			c.ID, c.EndedAt, c.PeakParticipants, c.WasLocked)
	case KindLegStarted:
		l := e.LegStart
		var ip, port any
		if l.RemoteAddr.IsValid() {
			ip, port = l.RemoteAddr.Addr().Unmap().String(), int(l.RemoteAddr.Port())
		}
		var res sql.Result
		res, err = tx.ExecContext(ctx, `
			INSERT INTO cdr_legs (id, conference_id, organisation_id, room_id, node, direction, protocol, transport,
				display_name, remote_uri, remote_ip, remote_port, user_agent, call_id, role,
				started_at, answered_at, audio_codec, video_codec, encryption, heartbeat_at)
			VALUES ($1, $2, $3, NULLIF($4, '')::uuid, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, coalesce($17::timestamptz, $16::timestamptz))
			ON CONFLICT (id) DO NOTHING`,
			l.ID, l.ConferenceID, l.OrganisationID, l.RoomID, node, orDefault(l.Direction, "in"), l.Protocol, l.Transport,
			nullString(l.DisplayName), nullString(l.RemoteURI), ip, port, nullString(l.UserAgent), nullString(l.CallID),
			orDefault(l.Role, "guest"), l.StartedAt, nullTime(l.AnsweredAt), l.AudioCodec, l.VideoCodec, orDefault(l.Encryption, "none"))
		if err == nil && affected(res) {
			org = l.OrganisationID
		}
	case KindLegQuality:
		q := e.LegQuality
		_, err = tx.ExecContext(ctx, `
			UPDATE cdr_legs SET packets_sent = $2, packets_received = $3, packets_lost = $4,
				jitter_avg_ms = $5, jitter_max_ms = $6, rtt_avg_ms = $7, rtt_max_ms = $8,
				bitrate_in = $9, bitrate_out = $10, heartbeat_at = greatest(heartbeat_at, $11)
			WHERE id = $1 AND ended_at IS NULL`,
			q.ID, int64(q.Quality.PacketsSent), int64(q.Quality.PacketsReceived), int64(q.Quality.PacketsLost),
			ms(q.Quality.JitterAvg), ms(q.Quality.JitterMax), ms(q.Quality.RTTAvg), ms(q.Quality.RTTMax),
			q.Quality.BitrateIn, q.Quality.BitrateOut, q.At)
	case KindLegEnded:
		l := e.LegEnd
		err = tx.GetContext(ctx, &org, `
			UPDATE cdr_legs SET ended_at = $2, end_reason = $3, error_code = NULLIF($4, 0),
				audio_codec = coalesce(NULLIF($5, ''), audio_codec), video_codec = coalesce(NULLIF($6, ''), video_codec),
				encryption = coalesce(NULLIF($7, ''), encryption),
				packets_sent = $8, packets_received = $9, packets_lost = $10,
				jitter_avg_ms = $11, jitter_max_ms = $12, rtt_avg_ms = $13, rtt_max_ms = $14,
				bitrate_in = $15, bitrate_out = $16,
				duration = greatest($2 - coalesce(answered_at, started_at), '0'), heartbeat_at = $2
			WHERE id = $1 AND ended_at IS NULL RETURNING organisation_id`,
			l.ID, l.EndedAt, orDefault(l.Reason, "hung_up"), l.ErrorCode, l.AudioCodec, l.VideoCodec, l.Encryption,
			int64(l.Quality.PacketsSent), int64(l.Quality.PacketsReceived), int64(l.Quality.PacketsLost),
			ms(l.Quality.JitterAvg), ms(l.Quality.JitterMax), ms(l.Quality.RTTAvg), ms(l.Quality.RTTMax),
			l.Quality.BitrateIn, l.Quality.BitrateOut)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil // already ended, or never started: a replay or a late event
	}
	if err != nil {
		return fmt.Errorf("cdr: store %s: %w", e.Kind, err)
	}
	if org == "" || e.Kind == KindLegQuality {
		return nil
	}
	return enqueueSinkEvent(ctx, tx, org, e)
}

func affected(res sql.Result) bool {
	n, err := res.RowsAffected()
	return err == nil && n > 0
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// enqueueSinkEvent queues e for every enabled sink of the organisation, each
// with the sink's next sequence number, in the transaction that stored it.
func enqueueSinkEvent(ctx context.Context, tx *sqlx.Tx, org string, e *Event) error {
	payload, err := json.Marshal(sinkPayload(e))
	if err != nil {
		return fmt.Errorf("cdr: sink payload: %w", err)
	}
	_, err = tx.ExecContext(ctx, `
		WITH s AS (
			UPDATE cdr_sinks SET last_seq = last_seq + 1
			WHERE organisation_id = $1 AND enabled
			RETURNING id, last_seq
		)
		INSERT INTO cdr_sink_queue (sink_id, seq, event, payload, created_at, next_attempt_at)
		SELECT id, last_seq, $2, $3, now(), now() FROM s`,
		org, string(e.Kind), payload)
	if err != nil {
		return fmt.Errorf("cdr: queue sink event: %w", err)
	}
	return nil
}

// sinkPayload is the data part of a sink event: the record the event carries.
func sinkPayload(e *Event) any {
	switch e.Kind {
	case KindConferenceStarted:
		return e.ConferenceStart
	case KindConferenceEnded:
		return e.ConferenceEnd
	case KindLegStarted:
		return e.LegStart
	case KindLegEnded:
		return e.LegEnd
	}
	return e.LegQuality
}

// isDataError reports whether err is PostgreSQL refusing an event, which no
// retry will fix, as opposed to the database being unreachable or busy (the
// connection failed, the server is shutting down or out of resources, a
// serialisation conflict), which a retry will.
func isDataError(err error) bool {
	if errors.Is(err, ErrBadEvent) {
		return true
	}
	var se interface{ SQLState() string }
	if !errors.As(err, &se) {
		return false // not an answer of the server: the connection
	}
	s := se.SQLState()
	for _, transient := range []string{"08", "53", "57", "58", "40"} {
		if strings.HasPrefix(s, transient) {
			return false
		}
	}
	return true
}

// closeCrashed closes the legs node left open when it stopped without ending
// them: end reason bridge_restart, ended at their last heartbeat. Conferences
// all of whose legs are closed are closed at their last leg's end. It returns
// how many legs it closed.
func closeCrashed(ctx context.Context, db *sqlx.DB, node string) (int64, error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("cdr: begin: %w", err)
	}
	defer tx.Rollback()
	var confs []string
	err = tx.SelectContext(ctx, &confs, `
		UPDATE cdr_legs SET ended_at = coalesce(heartbeat_at, answered_at, started_at),
			end_reason = 'bridge_restart',
			duration = greatest(coalesce(heartbeat_at, answered_at, started_at) - coalesce(answered_at, started_at), '0')
		WHERE ended_at IS NULL AND node = $1
		RETURNING conference_id`, node)
	if err != nil {
		return 0, fmt.Errorf("cdr: close crashed legs: %w", err)
	}
	if len(confs) > 0 {
		_, err = tx.ExecContext(ctx, `
			UPDATE cdr_conferences c SET ended_at = (SELECT max(ended_at) FROM cdr_legs WHERE conference_id = c.id)
			WHERE c.id = ANY($1::uuid[]) AND c.ended_at IS NULL
			  AND NOT EXISTS (SELECT 1 FROM cdr_legs WHERE conference_id = c.id AND ended_at IS NULL)`,
			pq.Array(confs))
		if err != nil {
			return 0, fmt.Errorf("cdr: close crashed conferences: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("cdr: commit: %w", err)
	}
	return int64(len(confs)), nil
}

// heartbeat marks the legs in ids alive at now.
func heartbeat(ctx context.Context, db *sqlx.DB, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.ExecContext(ctx, `UPDATE cdr_legs SET heartbeat_at = $2 WHERE id = ANY($1::uuid[]) AND ended_at IS NULL`,
		pq.Array(ids), now)
	if err != nil {
		return fmt.Errorf("cdr: heartbeat: %w", err)
	}
	return nil
}
