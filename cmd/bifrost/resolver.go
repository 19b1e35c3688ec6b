package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/bridge"
)

// roomResolver adapts the rooms table to bridge.Resolver: a dialled alias is a
// room's numeric alias or, compared case-insensitively, its name alias.
type roomResolver struct {
	db *sqlx.DB
	// hasWait records that rooms.guests_wait_for_host exists (migration 0003
	// adds it); until it is seen, rooms are read without it.
	hasWait atomic.Bool
}

type roomRow struct {
	ID                string `db:"id"`
	OrganisationID    string `db:"organisation_id"`
	Name              string `db:"name"`
	Alias             string `db:"alias"`
	NameAlias         string `db:"name_alias"`
	HostPIN           string `db:"host_pin"`
	GuestPIN          string `db:"guest_pin"`
	MaxParticipants   int    `db:"max_participants"`
	GuestsWaitForHost bool   `db:"guests_wait_for_host"`
	SRTPPolicy        string `db:"srtp_policy"`
}

// ResolveRoom returns the room alias dials, or an error wrapping
// bridge.ErrRoomNotFound.
func (r *roomResolver) ResolveRoom(ctx context.Context, alias string) (bridge.RoomInfo, error) {
	if alias == "" || len(alias) > 200 {
		return bridge.RoomInfo{}, fmt.Errorf("resolve %q: %w", alias, bridge.ErrRoomNotFound)
	}
	wait := "false"
	if r.hasWait.Load() || r.detectWait(ctx) {
		wait = "guests_wait_for_host"
	}
	// The alias column is unique; name_alias is unique on lower(name_alias), so
	// at most one row matches each condition, and a numeric alias wins.
	q := `SELECT id, organisation_id, name, alias, coalesce(name_alias, '') AS name_alias,
	             coalesce(host_pin, '') AS host_pin, coalesce(guest_pin, '') AS guest_pin,
	             coalesce(max_participants, 0) AS max_participants,
	             ` + wait + ` AS guests_wait_for_host,
	             coalesce(srtp_policy, '') AS srtp_policy
	        FROM rooms
	       WHERE alias = $1 OR lower(name_alias) = lower($1)
	       ORDER BY alias = $1 DESC
	       LIMIT 1`
	var row roomRow
	if err := r.db.GetContext(ctx, &row, q, alias); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return bridge.RoomInfo{}, fmt.Errorf("resolve %q: %w", alias, bridge.ErrRoomNotFound)
		}
		return bridge.RoomInfo{}, fmt.Errorf("resolve room: %w", err)
	}
	return bridge.RoomInfo{
		ID: bridge.RoomID(row.ID), OrganisationID: bridge.OrganisationID(row.OrganisationID),
		Name: row.Name, Alias: row.Alias, NameAlias: row.NameAlias,
		HostPIN: row.HostPIN, GuestPIN: row.GuestPIN,
		MaxParticipants: row.MaxParticipants, GuestsWaitForHost: row.GuestsWaitForHost,
		SRTP: srtpPolicy(row.SRTPPolicy),
	}, nil
}

// detectWait looks whether rooms.guests_wait_for_host exists yet.
func (r *roomResolver) detectWait(ctx context.Context) bool {
	var ok bool
	err := r.db.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
	     WHERE table_schema = current_schema() AND table_name = 'rooms' AND column_name = 'guests_wait_for_host')`)
	if err == nil && ok {
		r.hasWait.Store(true)
	}
	return ok
}
