package main

import (
	"context"
	"errors"
	"testing"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func TestRoomResolverFindsRoomsByAliasOrNameAlias(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	var org string
	if err := db.GetContext(ctx, &org, `INSERT INTO organisations (name) VALUES ('Acme') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO rooms (organisation_id, name, alias, name_alias, host_pin, guest_pin, max_participants)
		VALUES ($1, 'Board', '1234', 'Board.Room', '123456', '5678', 12),
		       ($1, 'Open', '5555', NULL, NULL, NULL, NULL)`, org); err != nil {
		t.Fatal(err)
	}
	r := &roomResolver{db: db}
	for _, tc := range []struct {
		alias, want string
	}{{"1234", "Board"}, {"board.room", "Board"}, {"BOARD.ROOM", "Board"}, {"5555", "Open"}} {
		got, err := r.ResolveRoom(ctx, tc.alias)
		if err != nil {
			t.Fatalf("resolve %q: %v", tc.alias, err)
		}
		if got.Name != tc.want || got.OrganisationID != bridge.OrganisationID(org) {
			t.Errorf("resolve %q: %+v; want room %s of %s", tc.alias, got, tc.want, org)
		}
	}
	board, _ := r.ResolveRoom(ctx, "1234")
	if board.HostPIN != "123456" || board.GuestPIN != "5678" || board.MaxParticipants != 12 || board.NameAlias != "Board.Room" {
		t.Errorf("board %+v; want its PINs, cap and name alias", board)
	}
	open, _ := r.ResolveRoom(ctx, "5555")
	if open.HostPIN != "" || open.GuestPIN != "" || open.MaxParticipants != 0 {
		t.Errorf("open room %+v; want no PINs and no cap", open)
	}
	for _, alias := range []string{"9999", "", "board", "1234' OR '1'='1"} {
		if _, err := r.ResolveRoom(ctx, alias); !errors.Is(err, bridge.ErrRoomNotFound) {
			t.Errorf("resolve %q: err %v; want ErrRoomNotFound", alias, err)
		}
	}
}

func TestRoomResolverReadsGuestsWaitForHostOnceTheColumnExists(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	var org string
	if err := db.GetContext(ctx, &org, `INSERT INTO organisations (name) VALUES ('Acme') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO rooms (organisation_id, name, alias) VALUES ($1, 'Board', '1234')`, org); err != nil {
		t.Fatal(err)
	}
	r := &roomResolver{db: db}
	if _, err := r.ResolveRoom(ctx, "1234"); err != nil {
		t.Fatalf("before the column exists: %v", err)
	}
	// What migration 0003 (webadmin) adds; created here if this schema lacks it.
	if _, err := db.ExecContext(ctx, `ALTER TABLE rooms ADD COLUMN IF NOT EXISTS guests_wait_for_host boolean NOT NULL DEFAULT false;
		UPDATE rooms SET guests_wait_for_host = true`); err != nil {
		t.Fatal(err)
	}
	got, err := r.ResolveRoom(ctx, "1234")
	if err != nil {
		t.Fatal(err)
	}
	if !got.GuestsWaitForHost {
		t.Error("GuestsWaitForHost false; want the column's true")
	}
}
