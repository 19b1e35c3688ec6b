// Package benchtab is the engine of `make bench`: it runs a subject and a
// reference harness alternately in the same process, at least five rounds
// each, with GOMAXPROCS fixed, measures the CPU time each round used
// (getrusage, not wall time, since the machine is shared and noisy), and
// prints one table row per metric:
//
//	metric | subject | reference | ratio | target | verdict
//
// Every figure is a ratio against a reference timed in the same invocation,
// so it can be compared between machines; the median of the rounds is
// reported. Rows whose subject does not exist yet are listed with the
// verdict "not built yet".
//
// The package knows no harness: the rows (the bridge's mixer, SIPp against
// Bifrost, raw UDP ceilings) are wired in cmd/benchtable. Like every package
// under internal/, it must not import bridge, directory, cdr, webadmin,
// migrations or cmd.
package benchtab
