package sipcall

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// sharedTestdata is the shared fixture tree, a sibling of the repository
// checkout (../shared/testdata from the repository root, also from a git
// worktree one level deeper), or BIFROST_SHARED_TESTDATA.
var sharedTestdata = findSharedTestdata()

func findSharedTestdata() string {
	if dir := os.Getenv("BIFROST_SHARED_TESTDATA"); dir != "" {
		return dir
	}
	// ../shared next to the checkout (at its usual depth or a worktree's),
	// or the workplace's own copy for a checkout elsewhere (a CI clone).
	for _, dir := range []string{"../../../shared/testdata", "../../../../shared/testdata", "/work/shared/testdata"} {
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return dir
		}
	}
	return "../../../shared/testdata"
}

// FuzzServerInput feeds arbitrary bytes through what the UDP transport does
// with a datagram (sip.Parser.ParseSIP, then our handlers for a request,
// then writing the response) and also sends them over UDP to a running
// server that routes calls into rooms, so a panic in any sipgo layer or in
// call setup crashes the run.
func FuzzServerInput(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Add([]byte("INVITE sip:1234@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK2\r\n" +
		"From: <sip:a@b>;tag=1\r\nTo: <sip:1234@127.0.0.1>\r\nCall-ID: c2\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:9>\r\n" +
		"Content-Type: application/sdp\r\nContent-Length: 63\r\n\r\nv=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"))
	f.Add([]byte("OPTIONS sip:room@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK1\r\n" +
		"From: <sip:a@b>;tag=1\r\nTo: <sip:room@127.0.0.1>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nRequire: x\r\nContent-Length: 0\r\n\r\n"))

	s := startServer(f, "")
	// Datagrams also go to a server that routes calls, so INVITEs reach
	// call setup, SDP negotiation and the dialog handlers.
	calls := startCallServer(f, &fakeRooms{}, nil)
	conn, err := net.Dial("udp", calls.UDPAddr().String())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = conn.Close() })
	parser := sip.NewParser()

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < sip.UDPMTUSize {
			// Delivery is not checked: the server may drop it, and a panic
			// there takes the whole process down anyway.
			_, _ = conn.Write(data)
		}

		msg, err := parser.ParseSIP(data)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		req.SetTransport("UDP")
		req.SetSource("127.0.0.1:5060")
		s.serve(req, func(res *sip.Response) error {
			_ = res.String()
			return nil
		}, s.handlerFor(req.Method))
	})
}

// fuzzSeeds reads the captured SIP messages and the RFC 4475/5118 torture
// messages from the shared fixtures, or nothing when they are absent.
func fuzzSeeds(f *testing.F) [][]byte {
	f.Helper()
	var seeds [][]byte
	add := func(path string) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatalf("seed %s: %v", path, err)
		}
		seeds = append(seeds, data)
	}
	sipFiles, _ := filepath.Glob(filepath.Join(sharedTestdata, "sip", "*.sip"))
	for _, p := range sipFiles {
		add(p)
	}
	torture := filepath.Join(sharedTestdata, "sip-torture")
	err := filepath.WalkDir(torture, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".dat") {
			add(p)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		f.Fatalf("seeds: %v", err)
	}
	return seeds
}
