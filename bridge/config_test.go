package bridge

import (
	"strings"
	"testing"
)

func TestConfigValidateOpusComplexity(t *testing.T) {
	for _, tc := range []struct {
		complexity int
		want       string // "" is valid
	}{
		{0, ""}, {1, ""}, {2, ""}, {10, ""},
		{-1, "opus complexity -1"}, {11, "opus complexity 11"},
	} {
		c := DefaultConfig()
		c.OpusComplexity = tc.complexity
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("complexity %d: %v, want valid", tc.complexity, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("complexity %d: error %v, want one saying %q", tc.complexity, err, tc.want)
		}
	}
}
