package devtemporal

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// slogLogger adapts the server's logger interface to log/slog. It drops
// lines below level before converting their tags, because the server logs
// a great deal at Info and Debug.
type slogLogger struct {
	l     *slog.Logger
	level slog.Leveler
	// stopping, shared by all loggers derived with With, drops everything
	// below Error while the server stops (see stopServer).
	stopping *atomic.Bool
}

var (
	_ log.Logger     = (*slogLogger)(nil)
	_ log.WithLogger = (*slogLogger)(nil)
)

func newLogger(l *slog.Logger, level slog.Leveler) *slogLogger {
	return &slogLogger{l: l, level: level, stopping: new(atomic.Bool)}
}

func (s *slogLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	if level < s.level.Level() || (level < slog.LevelError && s.stopping.Load()) || !s.l.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, len(tags))
	for i, t := range tags {
		attrs[i] = slog.Any(t.Key(), t.Value())
	}
	s.l.LogAttrs(ctx, level, msg, attrs...)
}

func (s *slogLogger) Debug(msg string, tags ...tag.Tag)  { s.log(slog.LevelDebug, msg, tags) }
func (s *slogLogger) Info(msg string, tags ...tag.Tag)   { s.log(slog.LevelInfo, msg, tags) }
func (s *slogLogger) Warn(msg string, tags ...tag.Tag)   { s.log(slog.LevelWarn, msg, tags) }
func (s *slogLogger) Error(msg string, tags ...tag.Tag)  { s.log(slog.LevelError, msg, tags) }
func (s *slogLogger) DPanic(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }

// Panic logs and panics, as the server's own zap logger does: its callers
// do not expect Panic to return.
func (s *slogLogger) Panic(msg string, tags ...tag.Tag) {
	s.log(slog.LevelError, msg, tags)
	panic(msg)
}

// Fatal logs and panics with a fatalError instead of exiting the process
// like the server's own logger: Start recovers it into an error (the server
// calls Fatal when, say, it cannot bind a port), and elsewhere the panic at
// least shows where the server gave up.
func (s *slogLogger) Fatal(msg string, tags ...tag.Tag) {
	s.log(slog.LevelError, msg, tags)
	panic(fatalError{msg: msg, tags: tags})
}

// With returns a logger that adds tags to every line.
func (s *slogLogger) With(tags ...tag.Tag) log.Logger {
	args := make([]any, 0, len(tags))
	for _, t := range tags {
		args = append(args, slog.Any(t.Key(), t.Value()))
	}
	return &slogLogger{l: s.l.With(args...), level: s.level, stopping: s.stopping}
}

// fatalError is what Fatal panics with.
type fatalError struct {
	msg  string
	tags []tag.Tag
}

func (e fatalError) Error() string {
	s := e.msg
	for _, t := range e.tags {
		s += fmt.Sprintf(" %s=%v", t.Key(), t.Value())
	}
	return s
}

// recoverFatal turns a panic from slogLogger.Fatal in the calling goroutine
// into *err and lets every other panic through. Use it deferred.
func recoverFatal(err *error) {
	r := recover()
	if r == nil {
		return
	}
	if fe, ok := r.(fatalError); ok {
		*err = fe
		return
	}
	panic(r)
}
