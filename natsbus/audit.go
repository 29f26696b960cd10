package natsbus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Audit checkpoints travel on a stream of their own, apart from the
// delivery queue: kept (limits retention), with deletes and purges denied,
// so that a client of NATS cannot remove a checkpoint it has seen.
const (
	AuditStream  = "HUELLA_AUDIT_CHECKPOINTS"
	AuditSubject = "huella.audit.checkpoints"
)

// PublishCheckpoint appends a signed audit checkpoint to the audit
// stream, creating the stream on first use, and waits until it is stored.
func (b *Bus) PublishCheckpoint(ctx context.Context, note []byte) error {
	if _, err := b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        AuditStream,
		Description: "Signed checkpoints of Huella's audit chain",
		Subjects:    []string{AuditSubject},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    b.cfg.Replicas,
		DenyDelete:  true,
		DenyPurge:   true,
	}); err != nil {
		return fmt.Errorf("natsbus: audit stream: %w", err)
	}
	if _, err := b.js.Publish(ctx, AuditSubject, note); err != nil {
		return fmt.Errorf("natsbus: publish checkpoint: %w", err)
	}
	return nil
}

// LastCheckpoint returns the newest checkpoint on the audit stream, or nil
// when there is none.
func (b *Bus) LastCheckpoint(ctx context.Context) ([]byte, error) {
	stream, err := b.js.Stream(ctx, AuditStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("natsbus: audit stream: %w", err)
	}
	msg, err := stream.GetLastMsgForSubject(ctx, AuditSubject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("natsbus: last checkpoint: %w", err)
	}
	return msg.Data, nil
}
