package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"
)

// gcmKeyLen is the master key and salt of AEAD_AES_128_GCM (RFC 7714
// §12): 16 and 12 bytes, given inline as one.
const gcmKeyLen = 16 + 12

// videoUA is the forwarding harnesses' SIP user agent: it places calls
// that carry H.264 video (and inactive audio, so that the mixer sends
// nothing and the calls cost the bridge only their video), on 127.0.0.1.
type videoUA struct {
	ua      *sipgo.UserAgent
	conn    net.PacketConn
	dialogs *sipgo.DialogClientCache
}

func newVideoUA() (*videoUA, error) {
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("benchtable"))
	if err != nil {
		return nil, err
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		_ = ua.Close()
		return nil, err
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		_ = ua.Close()
		return nil, err
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port))
	if err != nil {
		_ = conn.Close()
		_ = ua.Close()
		return nil, err
	}
	u := &videoUA{ua: ua, conn: conn}
	u.dialogs = sipgo.NewDialogClientCache(client, sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: "benchtable", Host: "127.0.0.1", Port: port},
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := u.dialogs.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
	})
	ok := func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	srv.OnInfo(ok)
	srv.OnOptions(ok)
	srv.OnUpdate(ok)
	go func() { _ = srv.ServeUDP(conn) }()
	return u, nil
}

// Close ends the user agent, which closes the socket it serves.
func (u *videoUA) Close() { _ = u.ua.Close() }

// videoCall is one placed call: where the bridge takes our video, and,
// with SRTP, the keys of both directions.
type videoCall struct {
	sess *sipgo.DialogClientSession
	// Bridge is the bridge's video RTP port (RTCP multiplexed).
	Bridge netip.AddrPort
	// OurKey is what we encrypt with; BridgeKey what the bridge
	// encrypts with (both AEAD_AES_128_GCM key‖salt), nil for plain.
	OurKey, BridgeKey []byte
}

// call places a call to target whose video is received at local, with
// SRTP (AEAD_AES_128_GCM, RTP/SAVP) when srtp is set, and acknowledges
// the answer.
func (u *videoUA) call(ctx context.Context, target string, local netip.AddrPort, srtp bool) (*videoCall, error) {
	vc := &videoCall{}
	proto, crypto := "RTP/AVP", ""
	if srtp {
		vc.OurKey = make([]byte, gcmKeyLen)
		_, _ = rand.Read(vc.OurKey)
		proto = "RTP/SAVP"
		crypto = "a=crypto:1 AEAD_AES_128_GCM inline:" + base64.StdEncoding.EncodeToString(vc.OurKey) + "\r\n"
	}
	// The audio is inactive on the discard port: nothing is sent to it.
	offer := fmt.Sprintf("v=0\r\no=benchtable %d 1 IN IP4 127.0.0.1\r\ns=benchtable\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio 9 %s 0\r\na=rtpmap:0 PCMU/8000\r\n%sa=inactive\r\n"+
		"m=video %d %s 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n"+
		"a=rtcp-fb:96 nack pli\r\na=rtcp-mux\r\n%sa=sendrecv\r\n",
		time.Now().UnixNano()&0xffffffff, proto, crypto, local.Port(), proto, crypto)
	var uri sip.Uri
	if err := sip.ParseUri(target, &uri); err != nil {
		return nil, fmt.Errorf("target %q: %w", target, err)
	}
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sess, err := u.dialogs.Invite(ictx, uri, []byte(offer), sip.NewHeader("Content-Type", "application/sdp"))
	if err == nil {
		err = sess.WaitAnswer(ictx, sipgo.AnswerOptions{})
	}
	if err != nil {
		if sess != nil {
			_ = sess.Close()
		}
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			return nil, fmt.Errorf("INVITE refused: %d %s", de.Res.StatusCode, de.Res.Reason)
		}
		return nil, fmt.Errorf("INVITE: %w", err)
	}
	vc.sess = sess
	if err := sess.Ack(ctx); err != nil {
		_ = sess.Close()
		return nil, fmt.Errorf("ACK: %w", err)
	}
	if err := vc.readAnswer(sess.InviteResponse.Body(), srtp); err != nil {
		u.hangup(vc)
		return nil, err
	}
	return vc, nil
}

// readAnswer takes the video m-line of the bridge's answer.
func (vc *videoCall) readAnswer(body []byte, srtp bool) error {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "video" || md.MediaName.Port.Value == 0 {
			continue
		}
		ci := md.ConnectionInformation
		if ci == nil {
			ci = sd.ConnectionInformation
		}
		if ci == nil || ci.Address == nil {
			return errors.New("answer: video without an address")
		}
		addr, err := netip.ParseAddr(ci.Address.Address)
		if err != nil {
			return fmt.Errorf("answer: video address: %w", err)
		}
		vc.Bridge = netip.AddrPortFrom(addr, uint16(md.MediaName.Port.Value))
		if !srtp {
			return nil
		}
		for _, a := range md.Attributes {
			f := strings.Fields(a.Value)
			if a.Key != "crypto" || len(f) < 3 || f[1] != "AEAD_AES_128_GCM" {
				continue
			}
			inline, _, _ := strings.Cut(strings.TrimPrefix(f[2], "inline:"), "|")
			key, err := base64.StdEncoding.DecodeString(inline)
			if err != nil || len(key) != gcmKeyLen {
				return fmt.Errorf("answer: video key %q", f[2])
			}
			vc.BridgeKey = key
			return nil
		}
		return errors.New("answer: video without an AEAD_AES_128_GCM key")
	}
	return errors.New("answer: no video accepted")
}

// hangup sends BYE, bounded, and forgets the dialog.
func (u *videoUA) hangup(vc *videoCall) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = vc.sess.Bye(ctx)
	_ = vc.sess.Close()
}
