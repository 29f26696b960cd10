// Package requestid carries the ID of an API request in its context, so
// that every log line written while serving it names it.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
)

// Header is the HTTP header a request ID arrives and leaves in.
const Header = "X-Request-ID"

// Key is the log attribute that holds the request ID.
const Key = "request_id"

type contextKey struct{}

// NewContext returns ctx carrying the request ID.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, contextKey{}, id)
}

// FromContext returns the request ID in ctx, or "".
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(contextKey{}).(string)
	return id
}

// New returns a fresh random request ID: 16 hex digits.
func New() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Valid reports whether a client-sent ID may be used as it is: 1 to 64
// letters, digits, '-', '_' or '.'. Anything else is replaced, so that a
// header cannot smuggle text (or personal data) into the logs.
func Valid(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// Handler wraps a slog handler so that each record logged with a context
// carrying a request ID (Logger.InfoContext and the like) gains the
// request_id attribute. Wrapping a wrapped handler returns it unchanged.
func Handler(h slog.Handler) slog.Handler {
	if _, ok := h.(handler); ok {
		return h
	}
	return handler{h}
}

type handler struct{ slog.Handler }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if id := FromContext(ctx); id != "" {
		r.AddAttrs(slog.String(Key, id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{h.Handler.WithAttrs(attrs)}
}

func (h handler) WithGroup(name string) slog.Handler { return handler{h.Handler.WithGroup(name)} }
