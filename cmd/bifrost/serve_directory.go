package main

import (
	"context"
	"time"

	"github.com/bifrost-video/bifrost/directory"
)

// startDirectory starts the directory's background job — the LDAP sync
// scheduler, which runs each source whose interval has passed — and returns
// the function that stops it and waits for a running sync. A sync cut short
// by shutdown fails and changes nothing.
func startDirectory(ctx context.Context, e *env) (stop func()) {
	log := e.log.With("component", "ldap-sync")
	db, err := e.DB(ctx)
	if err != nil {
		log.Error("directory: no database; LDAP syncs will not run", "err", err)
		return func() {}
	}
	key, err := e.SecretKey()
	if err != nil {
		log.Error("directory: no secret key; LDAP syncs will not run", "err", err)
		return func() {}
	}
	sc := directory.NewScheduler(directory.NewSyncer(directory.NewStore(db, time.Now), key, log), time.Minute, log)
	sc.Start(ctx)
	return func() { _ = sc.Close() }
}
