package webcall

import (
	"slices"
	"testing"

	"github.com/bifrost-video/bifrost/bridge"
)

func ids(c []bridge.ParticipantID) []string {
	s := make([]string, len(c))
	for i, p := range c {
		s[i] = string(p)
	}
	return s
}

func wantChange(t *testing.T, step string, got change, add, remove []string) {
	t.Helper()
	if !slices.Equal(ids(got.add), add) || !slices.Equal(ids(got.remove), remove) {
		t.Errorf("%s: add %v remove %v, want add %v remove %v", step, ids(got.add), ids(got.remove), add, remove)
	}
}

func TestTilesJoinLeave(t *testing.T) {
	tl := newTiles(2)
	wantChange(t, "a sends", tl.seen("a"), []string{"a"}, nil)
	wantChange(t, "a again", tl.seen("a"), nil, nil)
	wantChange(t, "b sends", tl.seen("b"), []string{"b"}, nil)
	wantChange(t, "c sends, over the cap", tl.seen("c"), nil, nil)
	wantChange(t, "c speaks: replaces the least recent", tl.speaker("c"), []string{"c"}, []string{"b"})
	wantChange(t, "c speaks again", tl.speaker("c"), nil, nil)
	wantChange(t, "b speaks", tl.speaker("b"), []string{"b"}, []string{"a"})
	wantChange(t, "c leaves: a gets its place", tl.left("c"), []string{"a"}, []string{"c"})
	wantChange(t, "someone without video speaks", tl.speaker("x"), nil, nil)
	wantChange(t, "someone without video leaves", tl.left("x"), nil, nil)
	wantChange(t, "a leaves", tl.left("a"), nil, []string{"a"})
	wantChange(t, "b leaves", tl.left("b"), nil, []string{"b"})
	if len(tl.shown) != 0 || len(tl.known) != 0 {
		t.Errorf("after everyone left: shown %v known %v", tl.shown, tl.known)
	}
}

func TestTilesCapZero(t *testing.T) {
	tl := newTiles(0)
	wantChange(t, "a sends", tl.seen("a"), nil, nil)
	wantChange(t, "a speaks", tl.speaker("a"), nil, nil)
}

func TestTilesShrinkAndGrow(t *testing.T) {
	tl := newTiles(3)
	for _, s := range []bridge.ParticipantID{"a", "b", "c"} {
		tl.seen(s)
	}
	tl.speaker("c")
	wantChange(t, "a poor link: one tile, the speaker's", tl.setMax(1), nil, []string{"a", "b"})
	wantChange(t, "the same cap", tl.setMax(1), nil, nil)
	wantChange(t, "the link recovers", tl.setMax(3), []string{"a", "b"}, nil)
}
