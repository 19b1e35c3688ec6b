package video

import (
	"testing"
	"time"
)

func TestTheRewrittenStreamIsContinuousOverManySwitchesAndWrapArounds(t *testing.T) {
	var w Rewriter
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	type src struct {
		ssrc uint32
		seq  uint16
		ts   uint32
	}
	// Sources start near the wrap-around of both counters.
	srcs := []src{{1, 65530, 4294967000}, {2, 100, 5}, {2, 32768, 2147483648}} // two share an SSRC: Switch re-anchors anyway
	var lastSeq uint16
	var lastTS uint32
	first := true
	for sw := range 3000 {
		s := &srcs[sw%len(srcs)]
		w.Switch()
		for range 5 {
			now = now.Add(33 * time.Millisecond)
			seq, ts, ok := w.Rewrite(s.ssrc, s.seq, s.ts, now)
			if !ok {
				t.Fatalf("switch %d: packet refused", sw)
			}
			if !first {
				if seq != lastSeq+1 {
					t.Fatalf("switch %d: seq %d after %d; want no gap", sw, seq, lastSeq)
				}
				if d := int32(ts - lastTS); d <= 0 || d > 2*3000 {
					t.Fatalf("switch %d: timestamp step %d; want about one frame (3000)", sw, d)
				}
			}
			first = false
			lastSeq, lastTS = seq, ts
			s.seq++
			s.ts += 2970
		}
	}
}

func TestARewriterKeepsTheSourcesGapsAndReordering(t *testing.T) {
	var w Rewriter
	now := time.Now()
	s0, _, _ := w.Rewrite(9, 10, 1000, now)
	s2, _, _ := w.Rewrite(9, 12, 1000, now) // 11 lost
	s1, _, _ := w.Rewrite(9, 11, 1000, now) // arrives late
	if s2 != s0+2 || s1 != s0+1 {
		t.Errorf("seqs %d %d %d; want the source's own gap and order", s0, s2, s1)
	}
	if seq, _, _, _ := w.Last(); seq != s2 {
		t.Errorf("last %d; want the highest sent, %d", seq, s2)
	}
}

func TestALatePacketFromBeforeTheSwitchIsDropped(t *testing.T) {
	var w Rewriter
	now := time.Now()
	w.Rewrite(1, 500, 0, now)
	w.Switch()
	if _, _, ok := w.Rewrite(2, 7000, 90000, now); !ok {
		t.Fatal("the switch packet was refused")
	}
	if _, _, ok := w.Rewrite(2, 6999, 87000, now); ok {
		t.Error("a packet of the new source from before the switch was sent: its number collides with the old source's")
	}
	if _, _, ok := w.Rewrite(2, 7001, 90000, now); !ok {
		t.Error("the packet after the switch packet was refused")
	}
}

func TestAnInsertedPacketTakesTheNumberBeforeTheSwitchPacket(t *testing.T) {
	var w Rewriter
	now := time.Now()
	last, _, _ := w.Rewrite(1, 40, 0, now)
	w.Switch()
	ins, insTS, _ := w.Rewrite(2, 899, 5000, now)
	idr, idrTS, ok := w.Rewrite(2, 900, 5000, now)
	if !ok || ins != last+1 || idr != last+2 || insTS != idrTS {
		t.Errorf("inserted %d@%d, IDR %d@%d (ok %v) after %d; want consecutive at one timestamp", ins, insTS, idr, idrTS, ok, last)
	}
}

func TestThrottleSendsOneRequestPerIntervalAndHoldsTheRest(t *testing.T) {
	th := Throttle{Interval: 100 * time.Millisecond}
	t0 := time.Now()
	if !th.Request(t0) {
		t.Fatal("the first request was held")
	}
	if th.Request(t0.Add(10 * time.Millisecond)) {
		t.Fatal("a second request within the interval was sent")
	}
	if th.Due(t0.Add(50 * time.Millisecond)) {
		t.Fatal("the held request went out within the interval")
	}
	if !th.Due(t0.Add(100 * time.Millisecond)) {
		t.Fatal("the held request did not go out after the interval")
	}
	if th.Due(t0.Add(300 * time.Millisecond)) {
		t.Fatal("the held request went out twice")
	}
	th.Request(t0.Add(310 * time.Millisecond))
	th.Request(t0.Add(320 * time.Millisecond))
	th.Satisfied()
	if th.Due(t0.Add(time.Second)) {
		t.Fatal("a request answered by a keyframe went out anyway")
	}
}
