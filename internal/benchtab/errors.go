package benchtab

import "errors"

// Errors of the package.
var (
	// ErrNoWork is returned when a harness round reports no work done, so no
	// cost per unit can be computed.
	ErrNoWork = errors.New("benchtab: harness did no work")
	// ErrNotBuilt marks a row whose subject does not exist yet; its verdict
	// is "not built yet".
	ErrNotBuilt = errors.New("benchtab: not built yet")
)
