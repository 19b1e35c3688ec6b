package cli

import (
	"context"
	"testing"
)

func TestMergeJoinsGroupsOfTheSameName(t *testing.T) {
	run := func(context.Context, Env, []string) error { return nil }
	a := []*Command{{Name: "org", Summary: "organisations", Sub: []*Command{{Name: "create", Run: run}}}}
	b := []*Command{{Name: "org", Sub: []*Command{{Name: "delete", Run: run}}}, {Name: "cdr", Sub: []*Command{{Name: "anonymise", Run: run}}}}
	merged := Merge(a, b)
	if len(merged) != 2 {
		t.Fatalf("got %d top-level commands, want org and cdr", len(merged))
	}
	for _, args := range [][]string{{"org", "create"}, {"org", "delete"}, {"cdr", "anonymise"}} {
		cmd, path, _ := Find(merged, args)
		if cmd == nil || cmd.Run == nil || len(path) != 2 {
			t.Errorf("Find(%v) = %v, path %v; want the leaf", args, cmd, path)
		}
	}
	if len(a[0].Sub) != 1 {
		t.Error("Merge changed its input")
	}
}

func TestMergePanicsOnALeafDefinedTwice(t *testing.T) {
	run := func(context.Context, Env, []string) error { return nil }
	defer func() {
		if recover() == nil {
			t.Error("no panic for two `version` leaves")
		}
	}()
	Merge([]*Command{{Name: "version", Run: run}}, []*Command{{Name: "version", Run: run}})
}
