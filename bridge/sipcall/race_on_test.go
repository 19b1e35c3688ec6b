//go:build race

package sipcall

// raceEnabled reports a -race build, where sync.Pool drops items at random
// (on purpose) and allocation counts through pooling code mean nothing.
const raceEnabled = true
