package cdr

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Conference is a stored conference record.
type Conference struct {
	ID               string     `db:"id" json:"id"`
	OrganisationID   string     `db:"organisation_id" json:"organisation_id"`
	RoomID           *string    `db:"room_id" json:"room_id"`
	RoomName         string     `db:"room_name" json:"room_name"`
	StartedAt        time.Time  `db:"started_at" json:"started_at"`
	EndedAt          *time.Time `db:"ended_at" json:"ended_at"`
	PeakParticipants *int       `db:"peak_participants" json:"peak_participants"`
	HadPIN           bool       `db:"had_pin" json:"had_pin"`
	WasLocked        bool       `db:"was_locked" json:"was_locked"`
	Legs             int        `db:"legs" json:"legs"`
	AnonymisedAt     *time.Time `db:"anonymised_at" json:"anonymised_at"`
}

// Leg is a stored leg record. The pointer fields are NULL once anonymised
// (identity) or while unknown (end, quality).
type Leg struct {
	ID              string     `db:"id" json:"id"`
	ConferenceID    string     `db:"conference_id" json:"conference_id"`
	OrganisationID  string     `db:"organisation_id" json:"organisation_id"`
	RoomID          *string    `db:"room_id" json:"room_id"`
	Direction       string     `db:"direction" json:"direction"`
	Protocol        string     `db:"protocol" json:"protocol"`
	Transport       string     `db:"transport" json:"transport"`
	DisplayName     *string    `db:"display_name" json:"display_name"`
	RemoteURI       *string    `db:"remote_uri" json:"remote_uri"`
	RemoteIP        *string    `db:"remote_ip" json:"remote_ip"`
	RemotePort      *int       `db:"remote_port" json:"remote_port"`
	UserAgent       *string    `db:"user_agent" json:"user_agent"`
	CallID          *string    `db:"call_id" json:"call_id"`
	Role            string     `db:"role" json:"role"`
	StartedAt       time.Time  `db:"started_at" json:"started_at"`
	AnsweredAt      *time.Time `db:"answered_at" json:"answered_at"`
	EndedAt         *time.Time `db:"ended_at" json:"ended_at"`
	DurationSeconds *float64   `db:"duration_s" json:"duration_s"`
	EndReason       *string    `db:"end_reason" json:"end_reason"`
	ErrorCode       *int       `db:"error_code" json:"error_code"`
	AudioCodec      string     `db:"audio_codec" json:"audio_codec"`
	VideoCodec      string     `db:"video_codec" json:"video_codec"`
	Encryption      string     `db:"encryption" json:"encryption"`
	PacketsSent     int64      `db:"packets_sent" json:"packets_sent"`
	PacketsReceived int64      `db:"packets_received" json:"packets_received"`
	PacketsLost     int64      `db:"packets_lost" json:"packets_lost"`
	LossPercent     float64    `db:"loss_pct" json:"loss_percent"`
	JitterAvgMS     *float64   `db:"jitter_avg_ms" json:"jitter_avg_ms"`
	JitterMaxMS     *float64   `db:"jitter_max_ms" json:"jitter_max_ms"`
	RTTAvgMS        *float64   `db:"rtt_avg_ms" json:"rtt_avg_ms"`
	RTTMaxMS        *float64   `db:"rtt_max_ms" json:"rtt_max_ms"`
	BitrateIn       *int       `db:"bitrate_in" json:"bitrate_in"`
	BitrateOut      *int       `db:"bitrate_out" json:"bitrate_out"`
	AnonymisedAt    *time.Time `db:"anonymised_at" json:"anonymised_at"`
}

// Filter selects records of one organisation. Zero fields do not filter.
type Filter struct {
	OrganisationID string // required
	From, To       time.Time
	RoomID         string
	ConferenceID   string
	Protocol       string
	EndReason      string
	// MinLossPercent keeps legs (or conferences with a leg) whose packet loss
	// is above this share, in percent.
	MinLossPercent float64
	Limit, Offset  int
}

const lossExpr = `CASE WHEN l.packets_received + l.packets_lost > 0 THEN 100.0 * l.packets_lost / (l.packets_received + l.packets_lost) ELSE 0 END`

func (f Filter) where(args *[]any) (string, error) {
	if f.OrganisationID == "" {
		return "", errors.New("cdr: filter without an organisation")
	}
	arg := func(v any) string { *args = append(*args, v); return "$" + strconv.Itoa(len(*args)) }
	conds := []string{"l.organisation_id = " + arg(f.OrganisationID) + "::uuid"}
	if !f.From.IsZero() {
		conds = append(conds, "l.started_at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, "l.started_at < "+arg(f.To))
	}
	if f.RoomID != "" {
		conds = append(conds, "l.room_id = "+arg(f.RoomID)+"::uuid")
	}
	if f.ConferenceID != "" {
		conds = append(conds, "l.conference_id = "+arg(f.ConferenceID)+"::uuid")
	}
	if f.Protocol != "" {
		conds = append(conds, "l.protocol = "+arg(f.Protocol))
	}
	if f.EndReason != "" {
		conds = append(conds, "l.end_reason = "+arg(f.EndReason))
	}
	if f.MinLossPercent > 0 {
		conds = append(conds, lossExpr+" > "+arg(f.MinLossPercent))
	}
	return strings.Join(conds, " AND "), nil
}

func (f Filter) page(args *[]any) string {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	*args = append(*args, limit, max(f.Offset, 0))
	return fmt.Sprintf(" LIMIT $%d OFFSET $%d", len(*args)-1, len(*args))
}

// ListLegs returns the legs matching f, newest first, and how many match in all.
func ListLegs(ctx context.Context, db sqlx.QueryerContext, f Filter) ([]Leg, int, error) {
	var args []any
	where, err := f.where(&args)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := sqlx.GetContext(ctx, db, &total, `SELECT count(*) FROM cdr_legs l WHERE `+where, args...); err != nil {
		return nil, 0, fmt.Errorf("cdr: count legs: %w", err)
	}
	legs, err := selectLegs(ctx, db, where, f, args)
	if err != nil {
		return nil, 0, err
	}
	return legs, total, nil
}

// selectLegs reads one page of the legs matching where.
func selectLegs(ctx context.Context, db sqlx.QueryerContext, where string, f Filter, args []any) ([]Leg, error) {
	legs := []Leg{}
	err := sqlx.SelectContext(ctx, db, &legs, `
		SELECT l.id, l.conference_id, l.organisation_id, l.room_id, l.direction, l.protocol, l.transport, l.display_name,
			l.remote_uri, host(l.remote_ip) AS remote_ip, l.remote_port, l.user_agent, l.call_id, l.role, l.started_at,
			l.answered_at, l.ended_at, extract(epoch FROM l.duration)::float8 AS duration_s, l.end_reason, l.error_code,
			l.audio_codec, l.video_codec, l.encryption, l.packets_sent, l.packets_received, l.packets_lost,
			(`+lossExpr+`)::float8 AS loss_pct, l.jitter_avg_ms, l.jitter_max_ms, l.rtt_avg_ms, l.rtt_max_ms,
			l.bitrate_in, l.bitrate_out, l.anonymised_at
		FROM cdr_legs l WHERE `+where+` ORDER BY l.started_at DESC, l.id`+f.page(&args), args...)
	if err != nil {
		return nil, fmt.Errorf("cdr: list legs: %w", err)
	}
	return legs, nil
}

// conferenceWhere is where for conferences: the date range and room on the
// conference, the leg filters on any of its legs.
func (f Filter) conferenceWhere(args *[]any) (string, error) {
	arg := func(v any) string { *args = append(*args, v); return "$" + strconv.Itoa(len(*args)) }
	if f.OrganisationID == "" {
		return "", errors.New("cdr: filter without an organisation")
	}
	conds := []string{"c.organisation_id = " + arg(f.OrganisationID) + "::uuid"}
	if !f.From.IsZero() {
		conds = append(conds, "c.started_at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, "c.started_at < "+arg(f.To))
	}
	if f.RoomID != "" {
		conds = append(conds, "c.room_id = "+arg(f.RoomID)+"::uuid")
	}
	if f.Protocol != "" || f.EndReason != "" || f.MinLossPercent > 0 {
		lf := f
		lf.From, lf.To, lf.RoomID = time.Time{}, time.Time{}, ""
		lw, err := lf.where(args)
		if err != nil {
			return "", err
		}
		conds = append(conds, "EXISTS (SELECT 1 FROM cdr_legs l WHERE l.conference_id = c.id AND "+lw+")")
	}
	return strings.Join(conds, " AND "), nil
}

// ListConferences returns the conferences with a leg matching f (or, without
// leg filters, all in the date range), newest first, and how many in all.
func ListConferences(ctx context.Context, db sqlx.QueryerContext, f Filter) ([]Conference, int, error) {
	var args []any
	where, err := f.conferenceWhere(&args)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := sqlx.GetContext(ctx, db, &total, `SELECT count(*) FROM cdr_conferences c WHERE `+where, args...); err != nil {
		return nil, 0, fmt.Errorf("cdr: count conferences: %w", err)
	}
	confs, err := selectConferences(ctx, db, where, f, args)
	if err != nil {
		return nil, 0, err
	}
	return confs, total, nil
}

// selectConferences reads one page of the conferences matching where.
func selectConferences(ctx context.Context, db sqlx.QueryerContext, where string, f Filter, args []any) ([]Conference, error) {
	confs := []Conference{}
	err := sqlx.SelectContext(ctx, db, &confs, `
		SELECT c.id, c.organisation_id, c.room_id, c.room_name, c.started_at, c.ended_at, c.peak_participants, c.had_pin,
			c.was_locked, c.anonymised_at, (SELECT count(*) FROM cdr_legs l WHERE l.conference_id = c.id) AS legs
		FROM cdr_conferences c WHERE `+where+` ORDER BY c.started_at DESC, c.id`+f.page(&args), args...)
	if err != nil {
		return nil, fmt.Errorf("cdr: list conferences: %w", err)
	}
	return confs, nil
}

// GetConference returns one conference of org with its legs.
func GetConference(ctx context.Context, db sqlx.QueryerContext, org, id string) (Conference, []Leg, error) {
	var c Conference
	err := sqlx.GetContext(ctx, db, &c, `
		SELECT c.id, c.organisation_id, c.room_id, c.room_name, c.started_at, c.ended_at, c.peak_participants, c.had_pin,
			c.was_locked, c.anonymised_at, (SELECT count(*) FROM cdr_legs l WHERE l.conference_id = c.id) AS legs
		FROM cdr_conferences c WHERE c.organisation_id = $1::uuid AND c.id::text = $2`, org, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Conference{}, nil, fmt.Errorf("%w: conference %s", ErrNotFound, id)
	}
	if err != nil {
		return Conference{}, nil, fmt.Errorf("cdr: conference: %w", err)
	}
	legs, _, err := ListLegs(ctx, db, Filter{OrganisationID: org, ConferenceID: id, Limit: 1000})
	return c, legs, err
}

// csvCell makes a value safe for spreadsheets: a cell that starts with = + - @
// or a control character would be run as a formula (CSV injection); display
// names come from callers, so such cells get a leading apostrophe.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func strp[T any](p *T) string {
	if p == nil {
		return ""
	}
	switch v := any(*p).(type) {
	case string:
		return v
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	}
	return fmt.Sprint(*p)
}

// legsCSVHeader is the header row of a legs CSV.
var legsCSVHeader = []string{"id", "conference_id", "direction", "protocol", "transport", "display_name", "remote_uri", "remote_ip",
	"remote_port", "user_agent", "call_id", "role", "started_at", "answered_at", "ended_at", "duration_s", "end_reason",
	"error_code", "audio_codec", "video_codec", "encryption", "packets_sent", "packets_received", "packets_lost",
	"loss_percent", "jitter_avg_ms", "jitter_max_ms", "rtt_avg_ms", "rtt_max_ms", "bitrate_in", "bitrate_out", "anonymised_at"}

// legCSVRow is one leg as a CSV row, its cells made safe for spreadsheets.
func legCSVRow(l Leg) []string {
	row := []string{l.ID, l.ConferenceID, l.Direction, l.Protocol, l.Transport, strp(l.DisplayName), strp(l.RemoteURI),
		strp(l.RemoteIP), strp(l.RemotePort), strp(l.UserAgent), strp(l.CallID), l.Role, strp(&l.StartedAt),
		strp(l.AnsweredAt), strp(l.EndedAt), strp(l.DurationSeconds), strp(l.EndReason), strp(l.ErrorCode),
		l.AudioCodec, l.VideoCodec, l.Encryption, strconv.FormatInt(l.PacketsSent, 10),
		strconv.FormatInt(l.PacketsReceived, 10), strconv.FormatInt(l.PacketsLost, 10),
		strconv.FormatFloat(l.LossPercent, 'f', 2, 64), strp(l.JitterAvgMS), strp(l.JitterMaxMS), strp(l.RTTAvgMS),
		strp(l.RTTMaxMS), strp(l.BitrateIn), strp(l.BitrateOut), strp(l.AnonymisedAt)}
	for i := range row {
		row[i] = csvCell(row[i])
	}
	return row
}

// WriteLegsCSV writes legs as CSV with a header row.
func WriteLegsCSV(w io.Writer, legs []Leg) error {
	return writeCSV(w, legsCSVHeader, legs, legCSVRow)
}

// conferencesCSVHeader is the header row of a conferences CSV.
var conferencesCSVHeader = []string{"id", "room_id", "room_name", "started_at", "ended_at", "peak_participants", "had_pin", "was_locked", "legs", "anonymised_at"}

// conferenceCSVRow is one conference as a CSV row, its cells made safe for
// spreadsheets.
func conferenceCSVRow(c Conference) []string {
	row := []string{c.ID, strp(c.RoomID), c.RoomName, strp(&c.StartedAt), strp(c.EndedAt), strp(c.PeakParticipants),
		strconv.FormatBool(c.HadPIN), strconv.FormatBool(c.WasLocked), strconv.Itoa(c.Legs), strp(c.AnonymisedAt)}
	for i := range row {
		row[i] = csvCell(row[i])
	}
	return row
}

// WriteConferencesCSV writes conferences as CSV with a header row.
func WriteConferencesCSV(w io.Writer, confs []Conference) error {
	return writeCSV(w, conferencesCSVHeader, confs, conferenceCSVRow)
}

func writeCSV[T any](w io.Writer, header []string, items []T, row func(T) []string) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	for _, it := range items {
		if err := cw.Write(row(it)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
