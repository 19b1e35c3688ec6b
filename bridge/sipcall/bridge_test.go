package sipcall

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/media"
)

// TestCallsMeetInTheRealBridge puts two callers into one room of the real
// bridge and mixer: what one says (a 1 kHz tone in PCMU) the other hears.
func TestCallsMeetInTheRealBridge(t *testing.T) {
	b := bridge.New(bridge.Config{}, bridge.Deps{Resolver: bridge.ResolverFunc(func(_ context.Context, alias string) (bridge.RoomInfo, error) {
		if alias != testRoom.Alias {
			return bridge.RoomInfo{}, bridge.ErrRoomNotFound
		}
		return testRoom, nil
	})})
	s := startCallServer(t, BridgeRooms(b), nil)
	t.Cleanup(func() { _ = s.Close(); _ = b.Close() })

	speaker, listener := newTestUA(t), newTestUA(t)
	sessA, resA := speaker.invite(s.Server, "1234", speaker.defaultOffer())
	sessB, resB := listener.invite(s.Server, "1234", listener.defaultOffer())
	if resA.StatusCode != 200 || resB.StatusCode != 200 {
		t.Fatalf("INVITEs = %d, %d; want 200", resA.StatusCode, resB.StatusCode)
	}
	_ = sessA.Ack(speaker.ctx())
	_ = sessB.Ack(listener.ctx())
	bridgeA, _ := answerAddr(t, resA)

	enc, err := media.NewEncoder(media.PCMU)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	pcm := make([]int16, media.FrameSamples)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/media.SampleRate))
	}
	payload := make([]byte, media.MaxPayload)
	n, err := enc.Encode(pcm, payload)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				speaker.rtp.send(int(bridgeA.Port()), 0, uint16(i), uint32(i*160), payload[:n])
			}
		}
	}()

	dec, err := media.NewDecoder(media.PCMU)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	loud := func(p []byte) bool {
		out := make([]int16, media.MaxFrameSamples)
		k, err := dec.Decode(p, out)
		if err != nil {
			return false
		}
		var sum float64
		for _, v := range out[:k] {
			sum += float64(v) * float64(v)
		}
		return k > 0 && math.Sqrt(sum/float64(k)) > 1000
	}
	heard := false
	for range 150 { // 3 s of packets
		if _, p := listener.rtp.read(); loud(p) {
			heard = true
			break
		}
	}
	if !heard {
		t.Fatal("the listener never heard the speaker's tone")
	}
	// Whether the speaker hears itself is the mixer's to guarantee and is
	// tested in bridge/media; here it is only measured. At this commit a
	// few frames in 100 echo (at speech onset and when the speaker drops
	// out of the speaker set for a tick): reported to the media engineer.
	echoed := 0
	for range 100 {
		if _, p := speaker.rtp.read(); loud(p) {
			echoed++
		}
	}
	t.Logf("the speaker heard its own tone in %d of 100 frames", echoed)
	_ = sessA.Bye(speaker.ctx())
	_ = sessB.Bye(listener.ctx())
}
