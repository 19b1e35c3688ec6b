package sipcall

import (
	"context"
	"log/slog"
)

// sipgoHandler is the slog handler sipgo's layers log through. sipgo logs
// the raw bytes of a message it fails to parse, at Error, under the key
// "data": that is one remotely triggered Error per packet, carrying bodies
// (SDP, names, numbers). The handler drops "data" attributes and demotes
// parse failures to Debug; everything else passes through.
type sipgoHandler struct {
	next slog.Handler
}

// sipgoLogger returns the logger handed to sipgo.
func sipgoLogger(l *slog.Logger) *slog.Logger {
	return slog.New(sipgoHandler{next: l.Handler()}).With("component", "sipgo")
}

// Enabled reports whether a record at level might be handled. Demotion only
// lowers a level, so a demoted record is checked again in Handle.
func (h sipgoHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle passes r on without its raw message bytes.
func (h sipgoHandler) Handle(ctx context.Context, r slog.Record) error {
	level := r.Level
	if r.Message == "failed to parse" {
		level = slog.LevelDebug
	}
	if !h.next.Enabled(ctx, level) {
		return nil
	}
	out := slog.NewRecord(r.Time, level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != "data" {
			out.AddAttrs(a)
		}
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs returns a handler with attrs, less any raw message bytes.
func (h sipgoHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	kept := make([]slog.Attr, 0, len(attrs))
	for _, a := range attrs {
		if a.Key != "data" {
			kept = append(kept, a)
		}
	}
	return sipgoHandler{next: h.next.WithAttrs(kept)}
}

// WithGroup returns a handler that nests attributes under name.
func (h sipgoHandler) WithGroup(name string) slog.Handler {
	return sipgoHandler{next: h.next.WithGroup(name)}
}
