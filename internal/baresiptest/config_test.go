package baresiptest

import (
	"bufio"
	"strings"
	"testing"
)

func TestAccountLine(t *testing.T) {
	o := Options{Name: "green", AudioCodecs: "opus/48000/2,PCMU", Video: &Video{Codecs: "H264"}, MediaEnc: "srtp-mand", AccountParams: ";answermode=auto"}
	want := "<sip:green@127.0.0.1:5062>;regint=0;audio_codecs=opus/48000/2,PCMU;video_codecs=H264;mediaenc=srtp-mand;answermode=auto\n"
	if got := o.Account(5062); got != want {
		t.Errorf("account = %q; want %q", got, want)
	}
}

func TestConfig(t *testing.T) {
	o := Options{Name: "blue", AudioSource: "/d/s.wav", Video: &Video{Codecs: "H264", Source: "avformat,/d/c.avi"},
		CAFile: "/d/ca.pem", RTPPorts: [2]int{30000, 30040}, Ctrl: true, Extra: "snd_path /d/rec\n"}
	c := o.config(5060, 5070, "/mods")
	for _, line := range []string{"sip_listen 127.0.0.1:5060", "audio_source aufile,/d/s.wav", "video_source avformat,/d/c.avi",
		"video_size 320x240", "rtp_ports 30000-30040", "module_path /mods", "module snapshot.so", "module srtp.so",
		"module_app ctrl_tcp.so", "ctrl_tcp_listen 127.0.0.1:5070", "sip_cafile /d/ca.pem", "snd_path /d/rec"} {
		if !strings.Contains(c, line+"\n") {
			t.Errorf("config lacks %q:\n%s", line, c)
		}
	}
	audio := (&Options{Name: "a", AudioSource: "/t.wav"}).config(5060, 0, "/mods")
	for _, absent := range []string{"video_source", "ctrl_tcp", "srtp.so", "sip_cafile", "rtp_stats"} {
		if strings.Contains(audio, absent) {
			t.Errorf("audio-only config has %q:\n%s", absent, audio)
		}
	}
}

func TestReadNetstring(t *testing.T) {
	r := bufio.NewReader(strings.NewReader(`5:hello,2:{},`))
	for _, want := range []string{"hello", "{}"} {
		got, err := readNetstring(r)
		if err != nil || string(got) != want {
			t.Fatalf("readNetstring = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := readNetstring(bufio.NewReader(strings.NewReader("-1:x,"))); err == nil {
		t.Error("a negative length was accepted")
	}
}

// FuzzReadNetstring feeds ctrl_tcp replies: never a panic, never more than
// the stated length.
func FuzzReadNetstring(f *testing.F) {
	for _, s := range []string{`5:hello,`, `44:{"response":true,"ok":true,"token":"t1","data":""},`, `99999999:`, `x:`, `3:ab`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		msg, err := readNetstring(bufio.NewReader(strings.NewReader(s)))
		if err == nil && len(msg) > len(s) {
			t.Fatalf("message of %d bytes from %d of input", len(msg), len(s))
		}
	})
}
