package natsbus_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/huella-abis/huella/natsbus"
)

// TestAuditCheckpoints: checkpoints are kept in order on their own stream,
// and a client cannot delete or purge them.
func TestAuditCheckpoints(t *testing.T) {
	ctx := context.Background()
	b, err := natsbus.Open(ctx, natsbus.Config{StoreDir: t.TempDir(), Listen: "127.0.0.1:-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if note, err := b.LastCheckpoint(ctx); err != nil || note != nil {
		t.Fatalf("before any: %q, %v; want none", note, err)
	}
	for _, note := range []string{"first", "second"} {
		if err := b.PublishCheckpoint(ctx, []byte(note)); err != nil {
			t.Fatal(err)
		}
	}
	if note, err := b.LastCheckpoint(ctx); err != nil || string(note) != "second" {
		t.Fatalf("last: %q, %v; want second", note, err)
	}
	// Another client of the server tries to remove them.
	nc, err := nats.Connect(b.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, natsbus.AuditStream)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.DeleteMsg(ctx, 2); err == nil {
		t.Error("a checkpoint was deleted")
	}
	if err := stream.Purge(ctx); err == nil {
		t.Error("the checkpoints were purged")
	}
	if note, _ := b.LastCheckpoint(ctx); string(note) != "second" {
		t.Errorf("last after the attempts: %q, want second", note)
	}
}
