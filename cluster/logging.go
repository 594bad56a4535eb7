package cluster

import (
	"bytes"
	"context"
	"log"
	"log/slog"
)

// levelFilter passes on records at or above min; protoactor logs about a
// hundred info lines per start, so the node hands it a filtered logger.
type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func (f levelFilter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return levelFilter{Handler: f.Handler.WithAttrs(attrs), min: f.min}
}

func (f levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{Handler: f.Handler.WithGroup(name), min: f.min}
}

// stdWriter turns memberlist's "[LEVEL] memberlist: text" lines into slog
// records at the matching level.
type stdWriter struct{ log *slog.Logger }

func newStdLogger(l *slog.Logger) *log.Logger {
	return log.New(stdWriter{log: l.With("component", "memberlist")}, "", 0)
}

func (w stdWriter) Write(p []byte) (int, error) {
	line := bytes.TrimSpace(p)
	level := slog.LevelDebug
	for prefix, l := range map[string]slog.Level{"[ERR]": slog.LevelError, "[WARN]": slog.LevelWarn, "[INFO]": slog.LevelDebug} {
		if bytes.HasPrefix(line, []byte(prefix)) {
			level = l
			line = bytes.TrimSpace(line[len(prefix):])
		}
	}
	w.log.Log(context.Background(), level, string(line))
	return len(p), nil
}
