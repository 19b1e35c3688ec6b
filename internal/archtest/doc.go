// Package archtest holds no code: its test checks the import rules of
// ../shared/ARCHITECTURE.md with `go list -deps`, so that they hold by themselves.
package archtest
