package devtemporal

import (
	"context"
	"log/slog"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// slogLogger adapts the server's logger interface to log/slog, dropping what
// is below level: the server logs a great deal at info.
type slogLogger struct {
	l     *slog.Logger
	level slog.Level
}

func newLogger(l *slog.Logger, level slog.Level) log.Logger { return slogLogger{l: l, level: level} }

func (s slogLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	if level < s.level || !s.l.Enabled(context.Background(), level) {
		return
	}
	attrs := make([]slog.Attr, 0, len(tags))
	for _, t := range tags {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	s.l.LogAttrs(context.Background(), level, msg, attrs...)
}

func (s slogLogger) Debug(msg string, tags ...tag.Tag)  { s.log(slog.LevelDebug, msg, tags) }
func (s slogLogger) Info(msg string, tags ...tag.Tag)   { s.log(slog.LevelInfo, msg, tags) }
func (s slogLogger) Warn(msg string, tags ...tag.Tag)   { s.log(slog.LevelWarn, msg, tags) }
func (s slogLogger) Error(msg string, tags ...tag.Tag)  { s.log(slog.LevelError, msg, tags) }
func (s slogLogger) DPanic(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }
func (s slogLogger) Panic(msg string, tags ...tag.Tag) {
	s.log(slog.LevelError, msg, tags)
	panic(msg)
}
func (s slogLogger) Fatal(msg string, tags ...tag.Tag) {
	s.log(slog.LevelError, msg, tags)
	panic(msg)
}

// With returns a logger that adds tags to every line.
func (s slogLogger) With(tags ...tag.Tag) log.Logger {
	args := make([]any, 0, 2*len(tags))
	for _, t := range tags {
		args = append(args, t.Key(), t.Value())
	}
	return slogLogger{l: s.l.With(args...), level: s.level}
}
