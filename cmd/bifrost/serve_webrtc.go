package main

import (
	"fmt"
	"net"
	"strconv"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/webcall"
	"github.com/bifrost-video/bifrost/webadmin"
)

// WebRTCConfig is the YAML shape of the browsers' side (issue 8).
type WebRTCConfig struct {
	// UDPPort carries all WebRTC media of all browsers; 0 takes any free port
	// (tests).
	UDPPort int `yaml:"udp_port"`
	// TCPPort is the ICE-TCP fallback for networks that block UDP; 0 turns
	// it off. It may equal UDPPort.
	TCPPort int `yaml:"tcp_port"`
	// PublicIP is announced to browsers in place of the local addresses (1:1
	// NAT); empty takes the top-level public_ip.
	PublicIP string `yaml:"public_ip"`
	// TURN lists STUN/TURN servers handed to the browsers.
	TURN []webcall.ICEServer `yaml:"turn"`
	// MaxTiles caps the video streams each browser receives, active speakers
	// first.
	MaxTiles int `yaml:"max_tiles"`
	// TileBitrate caps each browser's camera, in bit/s; a browser whose
	// downlink carries fewer tiles of it gets fewer tiles.
	TileBitrate int `yaml:"tile_bitrate"`
}

func defaultWebRTCConfig() WebRTCConfig {
	return WebRTCConfig{
		UDPPort:     webcall.DefaultUDPPort,
		TCPPort:     webcall.DefaultTCPPort,
		TURN:        []webcall.ICEServer{},
		MaxTiles:    webcall.DefaultMaxTiles,
		TileBitrate: webcall.DefaultTileBitrate,
	}
}

// webcall converts the YAML shape; public is the top-level public_ip.
func (w WebRTCConfig) webcall(public string) webcall.Config {
	c := webcall.Config{
		UDPAddr:     net.JoinHostPort("", strconv.Itoa(w.UDPPort)),
		PublicIP:    w.PublicIP,
		ICEServers:  w.TURN,
		MaxTiles:    w.MaxTiles,
		TileBitrate: w.TileBitrate,
	}
	if w.TCPPort != 0 {
		c.TCPAddr = net.JoinHostPort("", strconv.Itoa(w.TCPPort))
	}
	if c.PublicIP == "" {
		c.PublicIP = public
	}
	return c
}

func (w WebRTCConfig) validate(public string) error {
	for name, p := range map[string]int{"udp_port": w.UDPPort, "tcp_port": w.TCPPort} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("webrtc.%s %d: want 0 to 65535", name, p)
		}
	}
	if w.TileBitrate < 64_000 {
		return fmt.Errorf("webrtc.tile_bitrate %d: want at least 64000 (bit/s)", w.TileBitrate)
	}
	if w.MaxTiles < 1 {
		return fmt.Errorf("webrtc.max_tiles %d: must be at least 1", w.MaxTiles)
	}
	return w.webcall(public).Validate()
}

// webrtcRuntime is the browsers' server as serve runs it.
type webrtcRuntime struct{ srv *webcall.Server }

// startWebRTC opens the WebRTC media ports for br; close it before br.
func (e *env) startWebRTC(br *bridge.Bridge) (*webrtcRuntime, error) {
	srv, err := webcall.NewServer(e.cfg.WebRTC.webcall(e.cfg.PublicIP), webcall.Deps{
		Bridge: br,
		Logger: e.log.With("component", "webrtc"),
	})
	if err != nil {
		return nil, err
	}
	e.log.Info("webrtc media", "udp", srv.UDPAddr().String(), "tcp", fmt.Sprint(srv.TCPAddr()))
	return &webrtcRuntime{srv: srv}, nil
}

// feature mounts the join page, its files and its WebSocket: public, as
// anyone with the link may try to join (the room's PIN guards it).
func (w *webrtcRuntime) feature() webadmin.Feature {
	return webadmin.Feature{
		Name: "webrtc",
		Routes: []webadmin.Route{
			{Pattern: webcall.PatternPage, Access: webadmin.AccessPublic, Handler: w.srv.PageHandler()},
			{Pattern: webcall.PatternAssets, Access: webadmin.AccessPublic, Handler: w.srv.AssetsHandler()},
			{Pattern: webcall.PatternSocket, Access: webadmin.AccessPublic, Handler: w.srv.SocketHandler()},
		},
	}
}

func (w *webrtcRuntime) close() { _ = w.srv.Close() }
