package directory

import (
	"testing"

	"github.com/bifrost-video/bifrost/internal/slapdtest"
)

// slapd is a scratch OpenLDAP server for the sync tests (internal/slapdtest).
type slapd = slapdtest.Server

const fixtureSuffix = slapdtest.Suffix

func startSlapd(t testing.TB) *slapd { return slapdtest.Start(t) }

func newSlapd(t testing.TB) *slapd { return slapdtest.New(t) }
