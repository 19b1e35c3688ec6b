package baresiptest

import (
	"fmt"
	"strings"
)

// Options describe one baresip endpoint.
type Options struct {
	// Name is the account's user part and the name of its directory.
	Name string
	// Dial is the URI baresip dials at start; empty to dial nothing.
	Dial string
	// AudioSource is the 48 kHz mono WAV baresip sends as its microphone.
	AudioSource string
	// AudioCodecs is the account's audio_codecs, in baresip's names
	// ("opus/48000/2,G722/16000,PCMU").
	AudioCodecs string
	// Video, when set, turns video on.
	Video *Video
	// MediaEnc is the account's mediaenc: "", "srtp" or "srtp-mand"; it
	// loads the srtp module.
	MediaEnc string
	// CAFile is a PEM file of the CA baresip trusts for SIP over TLS
	// (sip_cafile); empty for none.
	CAFile string
	// AccountParams are more account parameters (";answermode=auto").
	AccountParams string
	// Modules are the media modules to load; nil loads g711, g722, opus,
	// alsa and aufile (and avcodec, avformat, fakevideo, snapshot with
	// video, srtp with MediaEnc).
	Modules []string
	// AppModules are more module_app lines (menu and, with Ctrl, ctrl_tcp
	// are always loaded).
	AppModules []string
	// RTPPorts is the RTP port range; zero picks one.
	RTPPorts [2]int
	// RTPStats turns on rtp_stats.
	RTPStats bool
	// Ctrl turns on ctrl_tcp on a free port (needed by Command and Shows).
	Ctrl bool
	// Extra are more config lines, appended as they are.
	Extra string
}

// Video is the camera of a video endpoint.
type Video struct {
	// Codecs is the account's video_codecs ("H264").
	Codecs string
	// Source is baresip's video_source ("avformat,/tmp/x/clip.avi").
	Source string
	// Size, Bitrate and FPS are video_size, video_bitrate and video_fps;
	// zero values give 320x240, 300 kbit/s, 15.
	Size    string
	Bitrate int
	FPS     int
}

// config returns the text of baresip's config file.
func (o *Options) config(sipPort, ctrlPort int, modulePath string) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("poll_method epoll")
	line("sip_listen 127.0.0.1:%d", sipPort)
	line("net_interface 127.0.0.1")
	line("audio_player alsa,null")
	line("audio_alert alsa,null")
	line("audio_source aufile,%s", o.AudioSource)
	line("ausrc_srate 48000")
	line("auplay_srate 48000")
	line("ausrc_channels 1")
	line("auplay_channels 1")
	if v := o.Video; v != nil {
		size, rate, fps := v.Size, v.Bitrate, v.FPS
		if size == "" {
			size = "320x240"
		}
		if rate == 0 {
			rate = 300000
		}
		if fps == 0 {
			fps = 15
		}
		line("video_source %s", v.Source)
		line("video_size %s", size)
		line("video_bitrate %d", rate)
		line("video_fps %d", fps)
	}
	line("rtp_ports %d-%d", o.RTPPorts[0], o.RTPPorts[1])
	if o.RTPStats {
		line("rtp_stats yes")
	}
	line("module_path %s", modulePath)
	for _, m := range o.modules() {
		line("module %s", m)
	}
	line("module_tmp uuid.so")
	line("module_tmp account.so")
	for _, m := range o.AppModules {
		line("module_app %s", m)
	}
	line("module_app menu.so")
	if o.Ctrl {
		line("module_app ctrl_tcp.so")
		line("ctrl_tcp_listen 127.0.0.1:%d", ctrlPort)
	}
	if o.Video != nil {
		line("avcodec_h264enc libx264")
		line("avcodec_h264dec h264")
	}
	if o.CAFile != "" {
		line("sip_cafile %s", o.CAFile)
	}
	b.WriteString(o.Extra)
	return b.String()
}

// modules returns the media modules to load.
func (o *Options) modules() []string {
	if o.Modules != nil {
		return o.Modules
	}
	ms := []string{"g711.so", "g722.so", "opus.so", "alsa.so", "aufile.so"}
	if o.Video != nil {
		ms = append(ms, "avcodec.so", "avformat.so", "fakevideo.so", "snapshot.so")
	}
	if o.MediaEnc != "" || o.CAFile != "" {
		ms = append(ms, "srtp.so")
	}
	return ms
}

// Account returns the accounts line of the endpoint listening on sipPort.
func (o *Options) Account(sipPort int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<sip:%s@127.0.0.1:%d>;regint=0", o.Name, sipPort)
	if o.AudioCodecs != "" {
		b.WriteString(";audio_codecs=" + o.AudioCodecs)
	}
	if o.Video != nil && o.Video.Codecs != "" {
		b.WriteString(";video_codecs=" + o.Video.Codecs)
	}
	if o.MediaEnc != "" {
		b.WriteString(";mediaenc=" + o.MediaEnc)
	}
	b.WriteString(o.AccountParams)
	b.WriteString("\n")
	return b.String()
}
