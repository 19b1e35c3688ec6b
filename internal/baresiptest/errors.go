package baresiptest

import "errors"

// ErrCommand is returned by Phone.Command when baresip answers a ctrl_tcp
// command with ok=false.
var ErrCommand = errors.New("baresiptest: baresip refused the command")

// errNoModules is returned when the baresip modules directory is not found.
var errNoModules = errors.New("baresiptest: no modules directory in baresip-core")
