package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/bifrost-video/bifrost/bridge/sipcall"
	"github.com/bifrost-video/bifrost/internal/cli"
	"github.com/bifrost-video/bifrost/migrations"
	"github.com/bifrost-video/bifrost/webadmin"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:    "serve",
		Summary: "run the bridge: HTTP and SIP listeners and background jobs (the default command)",
		Run: func(ctx context.Context, c cli.Env, args []string) error {
			if len(args) > 0 {
				return cli.UsageError("serve takes no arguments")
			}
			return serve(ctx, c.(*env))
		},
	}
}

// serve runs until ctx ends (SIGINT or SIGTERM), then shuts down in order: stop
// accepting HTTP and SIP, let what is in flight finish within the shutdown timeout,
// close the database; the caller stops the private cluster.
func serve(ctx context.Context, e *env) error {
	dir, err := e.ensureDataDir()
	if err != nil {
		return err
	}
	lock, err := lockDataDir(dir)
	if err != nil {
		return err
	}
	defer lock.release()

	db, err := e.DB(ctx)
	if err != nil {
		return err
	}
	boot, err := webadmin.Bootstrap(ctx, db)
	if err != nil {
		return err
	}
	cdrRT, err := e.startCDR(db) // serve_cdr.go
	if err != nil {
		return err
	}
	defer func() { _ = cdrRT.close() }() // last: records what the bridge ends on shutdown
	defer startDirectory(ctx, e)()
	pb := e.startPhonebook(db)                       // serve_phonebook.go
	defer pb.close()                                 // after the HTTP server: writes the pending request log
	_, stopLDAP, err := e.startPhonebookLDAP(db, pb) // serve_pbldap.go
	if err != nil {
		return err
	}
	defer stopLDAP() // before pb.close: its last searches reach the request log

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "bifrost", Name: "build_info", Help: "Always 1; the version is a label.",
			ConstLabels: prometheus.Labels{"version": version()},
		}, func() float64 { return 1 }),
	)

	sipCfg, br := e.bridgeSIP(db, reg, cdrRT.observer()) // serve_bridge.go
	defer func() { _ = br.Close() }()                    // after the SIP server: calls end with their BYEs first
	wrtc, err := e.startWebRTC(br)                       // serve_webrtc.go; closed before the bridge
	if err != nil {
		return err
	}
	defer wrtc.close()
	web := webadmin.New(e.cfg.webadmin(), webadmin.Deps{
		Logger:    e.log.With("component", "http"),
		Registry:  reg,
		DB:        db,
		SIPDomain: e.cfg.SIP.Domain,
		Features: []webadmin.Feature{ // feature_*.go
			cdrFeature(db),
			conferencesFeature(db, br, e.log.With("component", "http")),
			directoryFeature(db, e.SecretKey, e.log.With("component", "directory")),
			pb.feature(),
			wrtc.feature(),
		},
		Ready: func(ctx context.Context) error {
			current, latest, err := migrations.Status(ctx, db)
			if err != nil {
				return errors.New("database unreachable")
			}
			if current != latest {
				return fmt.Errorf("schema at version %d, want %d", current, latest)
			}
			return nil
		},
	})
	if err := web.Listen(); err != nil {
		return err
	}
	sipSrv, err := sipcall.NewServer(sipCfg, e.log, reg)
	if err != nil {
		_ = web.Shutdown(context.Background())
		return err
	}
	if err := sipSrv.Listen(ctx); err != nil {
		_ = web.Shutdown(context.Background())
		return err
	}
	// The banner first, then the log line that says the server is up: whoever
	// waits for that line (a supervisor, the tests) finds the banner complete.
	printBanner(e, boot, web, sipSrv)
	e.log.Info("listening", "http", web.Addr().String(),
		"sip_udp", sipSrv.UDPAddr().String(), "sip_tcp", sipSrv.TCPAddr().String(), "version", version())

	<-ctx.Done()
	e.log.Info("shutting down", "timeout", e.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), e.cfg.ShutdownTimeout)
	defer cancel()
	start := time.Now()
	err = errors.Join(sipSrv.Close(), web.Shutdown(sctx))
	e.log.Info("listeners closed", "took", time.Since(start).Round(time.Millisecond))
	return err
}

// printBanner tells a person on the console where to go: the admin, the demo
// room's join link and SIP URI, and — on the first start only — the generated
// admin password.
func printBanner(e *env, boot webadmin.BootstrapResult, web *webadmin.Server, sipSrv *sipcall.Server) {
	base := e.cfg.publicBaseURL(web.Addr())
	w := new(strings.Builder)
	defer func() { _, _ = io.WriteString(e.Stdout(), w.String()) }() // one write
	fmt.Fprintf(w, "\nBifrost %s is running.\n", version())
	fmt.Fprintf(w, "  Admin:  %s/admin/\n", base)
	if boot.RoomAlias != "" {
		fmt.Fprintf(w, "  Join:   %s/join/%s   (%s)\n", base, boot.RoomAlias, boot.RoomName)
		fmt.Fprintf(w, "  Dial:   sip:%s@%s\n", boot.RoomAlias, e.cfg.sipHost(sipSrv.UDPAddr()))
	}
	if boot.Created {
		fmt.Fprintf(w, "\nFirst start: created organisation %q and an administrator.\n", boot.Organisation)
		fmt.Fprintf(w, "  Sign in as %s with password %s\n", boot.AdminEmail, boot.AdminPassword)
		fmt.Fprintf(w, "  The password is shown only this once.\n")
	}
	fmt.Fprintln(w)
}
