package phonebook

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// LoggedRequest is a request log row as the admin shows it.
type LoggedRequest struct {
	ID             int64      `db:"id" json:"id"`
	At             time.Time  `db:"at" json:"at"`
	TokenID        *string    `db:"token_id" json:"token_id"`
	TokenName      string     `db:"token_name" json:"token_name"`
	Protocol       string     `db:"protocol" json:"protocol"`
	Operation      string     `db:"operation" json:"operation"`
	HTTPStatus     int        `db:"http_status" json:"http_status"`
	Error          string     `db:"error" json:"error,omitempty"`
	ClientIP       string     `db:"client_ip" json:"client_ip"`
	ForwardedFor   string     `db:"forwarded_for" json:"forwarded_for,omitempty"`
	ReportedIP     string     `db:"reported_ip" json:"reported_ip,omitempty"`
	SearchString   string     `db:"search_string" json:"search_string,omitempty"`
	SearchPath     string     `db:"search_path" json:"search_path,omitempty"`
	FolderPath     string     `db:"folder_path" json:"folder_path,omitempty"`
	MaxResult      int        `db:"max_result" json:"max_result"`
	ResultCount    int        `db:"result_count" json:"result_count"`
	Total          int        `db:"total" json:"total"`
	DurationMicros int64      `db:"duration_us" json:"duration_us"`
	SystemName     string     `db:"system_name" json:"system_name,omitempty"`
	MACAddress     string     `db:"mac_address" json:"mac_address,omitempty"`
	ProductType    string     `db:"product_type" json:"product_type,omitempty"`
	ProductID      string     `db:"product_id" json:"product_id,omitempty"`
	SWVersion      string     `db:"sw_version" json:"sw_version,omitempty"`
	HWBoard        string     `db:"hw_board" json:"hw_board,omitempty"`
	SerialNumber   string     `db:"serial_number" json:"serial_number,omitempty"`
	UserAgent      string     `db:"user_agent" json:"user_agent,omitempty"`
	BindName       string     `db:"bind_name" json:"bind_name,omitempty"`
	AnonymisedAt   *time.Time `db:"anonymised_at" json:"anonymised_at"`
}

// RequestFilter selects request log rows of one organisation.
type RequestFilter struct {
	Since, Until time.Time // zero: unbounded
	Protocol     string    // empty: all
	TokenID      string    // empty: all
	// Endpoint matches the system name, MAC address, serial number, client
	// or reported IP, or User-Agent (substring, case-insensitive).
	Endpoint string
	// Failed keeps only requests answered with an error.
	Failed bool
	// Limit is the page size (default 100, at most 1000); BeforeID pages
	// back from the row before that ID.
	Limit    int
	BeforeID int64
}

func (f RequestFilter) where(orgID string) (string, []any) {
	args := []any{orgID}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	cond := "r.organisation_id = $1"
	if !f.Since.IsZero() {
		cond += " AND r.at >= " + arg(f.Since)
	}
	if !f.Until.IsZero() {
		cond += " AND r.at < " + arg(f.Until)
	}
	if f.Protocol != "" {
		cond += " AND r.protocol = " + arg(f.Protocol)
	}
	if validUUID(f.TokenID) {
		cond += " AND r.token_id = " + arg(f.TokenID) + "::uuid"
	}
	if e := strings.TrimSpace(f.Endpoint); e != "" {
		p := arg("%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(e)) + "%")
		cond += " AND (lower(r.system_name) LIKE " + p + " OR r.mac_address LIKE " + p + " OR lower(r.serial_number) LIKE " + p +
			" OR r.client_ip LIKE " + p + " OR r.reported_ip LIKE " + p + " OR lower(r.user_agent) LIKE " + p + ")"
	}
	if f.Failed {
		cond += " AND (r.error <> '' OR r.http_status >= 400)"
	}
	if f.BeforeID > 0 {
		cond += " AND r.id < " + arg(f.BeforeID)
	}
	return cond, args
}

// Requests returns the organisation's logged requests matching f, newest first.
func Requests(ctx context.Context, db *sqlx.DB, orgID string, f RequestFilter) ([]LoggedRequest, error) {
	if !validUUID(orgID) {
		return nil, ErrNotFound
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	cond, args := f.where(orgID)
	out := []LoggedRequest{}
	err := db.SelectContext(ctx, &out, `SELECT r.id, r.at, r.token_id, coalesce(t.name, '') AS token_name, r.protocol, r.operation,
			r.http_status, r.error, r.client_ip, r.forwarded_for, r.reported_ip, r.search_string, r.search_path, r.folder_path,
			r.max_result, r.result_count, r.total, r.duration_us, r.system_name, r.mac_address, r.product_type, r.product_id,
			r.sw_version, r.hw_board, r.serial_number, r.user_agent, r.bind_name, r.anonymised_at
		FROM phonebook_requests r LEFT JOIN phonebook_tokens t ON t.id = r.token_id
		WHERE `+cond+` ORDER BY r.id DESC LIMIT `+fmt.Sprint(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("phonebook: requests: %w", err)
	}
	return out, nil
}

// Endpoint is one device that used the phonebook, as the per-endpoint view
// shows it: identified by its MAC address, else its system name, else its
// User-Agent and address.
type Endpoint struct {
	Key         string    `db:"key" json:"key"`
	Protocol    string    `db:"protocol" json:"protocol"`
	SystemName  string    `db:"system_name" json:"system_name"`
	MACAddress  string    `db:"mac_address" json:"mac_address"`
	ProductID   string    `db:"product_id" json:"product_id"`
	ProductType string    `db:"product_type" json:"product_type"`
	SWVersion   string    `db:"sw_version" json:"sw_version"`
	Serial      string    `db:"serial_number" json:"serial_number"`
	UserAgent   string    `db:"user_agent" json:"user_agent"`
	LastIP      string    `db:"client_ip" json:"client_ip"`
	FirstSeen   time.Time `db:"first_seen" json:"first_seen"`
	LastSeen    time.Time `db:"last_seen" json:"last_seen"`
	Requests    int       `db:"requests" json:"requests"`
	Failed      int       `db:"failed" json:"failed"`
}

// Endpoints returns the devices that used the organisation's phonebook since
// the given time (zero: ever; anonymised rows are not attributed), with
// what their latest request said (software version, address), most recent
// first.
func Endpoints(ctx context.Context, db *sqlx.DB, orgID string, since time.Time) ([]Endpoint, error) {
	if !validUUID(orgID) {
		return nil, ErrNotFound
	}
	out := []Endpoint{}
	err := db.SelectContext(ctx, &out, `WITH r AS (
			SELECT *, coalesce(nullif(mac_address, ''), nullif(lower(system_name), ''), user_agent || ' ' || client_ip) AS key
			FROM phonebook_requests WHERE organisation_id = $1 AND anonymised_at IS NULL AND at >= $2
		), latest AS (
			SELECT DISTINCT ON (key) key, protocol, system_name, mac_address, product_id, product_type, sw_version,
				serial_number, user_agent, client_ip
			FROM r ORDER BY key, at DESC, id DESC
		)
		SELECT l.*, s.first_seen, s.last_seen, s.requests, s.failed FROM latest l JOIN (
			SELECT key, min(at) AS first_seen, max(at) AS last_seen, count(*) AS requests,
				count(*) FILTER (WHERE error <> '' OR http_status >= 400) AS failed
			FROM r GROUP BY key) s USING (key)
		ORDER BY s.last_seen DESC, l.key LIMIT 5000`, orgID, since)
	if err != nil {
		return nil, fmt.Errorf("phonebook: endpoints: %w", err)
	}
	return out, nil
}
