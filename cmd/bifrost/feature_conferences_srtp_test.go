package main

import (
	"context"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/bridge"
)

// TestLiveConferenceShowsEncryption: the live conference page and its
// REST answer say, per participant, whether media is encrypted.
func TestLiveConferenceShowsEncryption(t *testing.T) {
	t.Parallel()
	e := newConfEnv(t)
	secure := &adminLeg{info: bridge.LegInfo{Protocol: bridge.ProtocolSIP, Transport: "tls", DisplayName: "secure",
		RemoteURI: "sip:secure@example.com", Encryption: bridge.EncryptionSRTPSDES}}
	secure.mu.Lock()
	p, err := e.br.Admit(context.Background(), e.roomA, secure)
	if err != nil {
		secure.mu.Unlock()
		t.Fatal(err)
	}
	secure.p = p
	secure.mu.Unlock()
	plain, _ := e.join(e.roomA, "plain")
	waitUntil(t, "both to join", func() bool { return p.Joined() && plain.Joined() })

	detail := "/admin/conferences/" + string(p.ConferenceID())
	body := e.page("GET", detail, nil).Body.String()
	for _, want := range []string{"<th scope=\"col\">Encryption</th>", "<td>SRTP (SDES) over TLS</td>", "<td>none over UDP</td>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the conference page lacks %s", want)
		}
	}
	_, api := e.api(e.adminA, "GET", "/api/v1/conferences/"+string(p.ConferenceID()), nil)
	if !strings.Contains(api, `"encryption": "srtp-sdes"`) || !strings.Contains(api, `"encryption": "none"`) {
		t.Errorf("the REST answer lacks each participant's encryption:\n%s", api)
	}
}
