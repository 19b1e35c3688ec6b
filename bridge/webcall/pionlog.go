package webcall

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLogs routes pion's logs to the injected logger at debug level: what
// matters reaches us as errors from pion's API and is logged at its own level
// there; pion's own reports ("write on closed pipe" when a call ends) are
// detail for debugging.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{f.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) out(level slog.Level, msg string) {
	if l.on() {
		l.log.Debug(msg, "pion_level", level.String())
	}
}

// outf formats only when the message is logged: formatting reads pion's
// structures, which pion does not always lock for its own logging (a data
// race in PeerConnection.onTrack's debug line).
func (l pionLogger) outf(level slog.Level, format string, args []any) {
	if l.on() {
		l.log.Debug(fmt.Sprintf(format, args...), "pion_level", level.String())
	}
}

func (l pionLogger) on() bool { return l.log.Enabled(context.Background(), slog.LevelDebug) }

func (l pionLogger) Trace(msg string)                  {}
func (l pionLogger) Tracef(format string, args ...any) {}
func (l pionLogger) Debug(msg string)                  { l.out(slog.LevelDebug, msg) }
func (l pionLogger) Debugf(format string, args ...any) {
	l.outf(slog.LevelDebug, format, args)
}
func (l pionLogger) Info(msg string) { l.out(slog.LevelInfo, msg) }
func (l pionLogger) Infof(format string, args ...any) {
	l.outf(slog.LevelInfo, format, args)
}
func (l pionLogger) Warn(msg string) { l.out(slog.LevelWarn, msg) }
func (l pionLogger) Warnf(format string, args ...any) {
	l.outf(slog.LevelWarn, format, args)
}
func (l pionLogger) Error(msg string) { l.out(slog.LevelError, msg) }
func (l pionLogger) Errorf(format string, args ...any) {
	l.outf(slog.LevelError, format, args)
}
