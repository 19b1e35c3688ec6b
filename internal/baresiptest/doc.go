// Package baresiptest runs headless baresip endpoints for end-to-end tests
// (the recipe of ../shared/interop/TEST-CLIENTS.md): it writes the config
// and accounts files of one instance on 127.0.0.1 (audio codecs, optional
// video from a solid-colour clip, mediaenc srtp or srtp-mand, SIP over TLS
// trusting a CA), starts baresip dialling a URI, sends it ctrl_tcp commands,
// reads the colour of the video it receives from snapshot_recv, and stops it
// when the test ends. It also makes the media files baresip plays, with
// ffmpeg. Without baresip or ffmpeg a test skips, or fails with CI=true.
//
// It is a normal package so that tests of several packages share it; only
// tests import it.
package baresiptest
