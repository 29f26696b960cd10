package requestid_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/huella-abis/huella/internal/requestid"
)

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(requestid.Handler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	ctx := requestid.NewContext(context.Background(), "req-1")
	logger.InfoContext(ctx, "with")
	logger.Info("without")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines: %s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], `"request_id":"req-1"`) || !strings.Contains(lines[0], `"component":"test"`) {
		t.Errorf("line with a request context = %s", lines[0])
	}
	if strings.Contains(lines[1], "request_id") {
		t.Errorf("line without a request context = %s", lines[1])
	}
}

func TestValid(t *testing.T) {
	for id, want := range map[string]bool{
		"abc-123_X.y":           true,
		requestid.New():         true,
		"":                      false,
		"has space":             false,
		"María":                 false,
		strings.Repeat("a", 65): false,
		"a\nb":                  false,
	} {
		if got := requestid.Valid(id); got != want {
			t.Errorf("Valid(%q) = %v, want %v", id, got, want)
		}
	}
}
