package main

import (
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/sipcall"
)

// bridgeSIP builds the Bridge (rooms from the rooms table; call records to
// obs, the cdr writer's adapter) and the SIP server's
// configuration that routes calls into it. The caller closes the Bridge after
// the SIP server, so that calls end with their own BYEs first.
func (e *env) bridgeSIP(db *sqlx.DB, reg prometheus.Registerer, obs bridge.CallObserver) (sipcall.Config, *bridge.Bridge) {
	br := bridge.New(e.cfg.bridge(), bridge.Deps{
		Resolver: &roomResolver{db: db},
		Observer: obs,
		Logger:   e.log.With("component", "bridge"),
		Registry: reg,
	})
	cfg := e.cfg.sipcallVideo(e.cfg.sipcall())
	cfg.Media = e.cfg.bridge()
	cfg.Rooms = sipcall.BridgeRooms(br)
	return cfg, br
}
