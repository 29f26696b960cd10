package audit

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/huella-abis/huella"
)

// DefaultCheckpointEvery is how often a Checkpointer signs the chain's
// head when it has grown.
const DefaultCheckpointEvery = time.Minute

// Checkpointer signs the audit chain's head periodically and at Close,
// appending each checkpoint to File and handing it to Publish. It follows
// the chain as it grows, checking every new link, and never signs a chain
// that is broken or does not extend the latest checkpoint in File.
type Checkpointer struct {
	Store huella.Store
	Key   *Key
	File  string // the checkpoint file, outside the data directory
	// Publish, when set, also sends each signed checkpoint elsewhere (the
	// NATS stream); a failure is logged, the file stays the record.
	Publish func(ctx context.Context, note []byte) error
	Every   time.Duration // DefaultCheckpointEvery when zero
	Logger  *slog.Logger
	Now     func() time.Time

	latest  atomic.Pointer[[]byte] // the newest signed note written
	mu      sync.Mutex
	head    *huella.AuditEvent // the last event checked
	signed  int64              // count of the last checkpoint written
	started bool               // head has been checked against File
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// ErrChainBroken is returned by Checkpoint when the chain does not hold or
// does not extend the latest checkpoint: nothing is signed.
var ErrChainBroken = errors.New("audit: the chain does not hold; no checkpoint signed")

// Open checks the chain against the checkpoint file, signs its head and
// starts signing periodically until Close.
func (c *Checkpointer) Open(ctx context.Context) error {
	if c.Every <= 0 {
		c.Every = DefaultCheckpointEvery
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if _, err := c.Checkpoint(ctx); err != nil {
		return err
	}
	ctx, c.cancel = context.WithCancel(ctx)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(c.Every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := c.Checkpoint(ctx); err != nil && ctx.Err() == nil {
					c.Logger.Error("audit checkpoint failed", "err", err)
				}
			}
		}
	}()
	return nil
}

// Close stops the periodic signing and signs the head one last time.
func (c *Checkpointer) Close() error {
	if c.cancel == nil {
		return nil
	}
	c.cancel()
	c.wg.Wait()
	c.cancel = nil
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.Checkpoint(ctx)
	return err
}

// Latest returns the newest signed checkpoint written, as a note, or nil.
func (c *Checkpointer) Latest() []byte {
	if p := c.latest.Load(); p != nil {
		return *p
	}
	return nil
}

// Checkpoint follows the chain from the last event checked to its end,
// checking each link, and signs the head when the chain has grown since
// the last checkpoint. The first call checks the whole chain against the
// checkpoint file. It returns the checkpoint written, or nil when the
// chain has not grown.
func (c *Checkpointer) Checkpoint(ctx context.Context) (*Checkpoint, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started {
		checkpoints, err := ReadCheckpoints(c.File, c.Key)
		if err != nil {
			return nil, err
		}
		r, err := VerifyCheckpoints(ctx, c.Store, checkpoints)
		if err != nil {
			return nil, err
		}
		if r.Break != nil {
			return nil, fmt.Errorf("%w: %s", ErrChainBroken, r.Break)
		}
		c.signed = -1 // sign once at start, even an unchanged or empty chain
		c.started = true
	}
	for {
		var after int64
		if c.head != nil {
			after = c.head.Seq
		}
		events, err := c.Store.ListAuditEvents(ctx, after, pageSize)
		if err != nil {
			return nil, fmt.Errorf("audit: list events: %w", err)
		}
		for _, e := range events {
			if b := check(c.head, e); b != nil {
				return nil, fmt.Errorf("%w: %s", ErrChainBroken, b)
			}
			c.head = e
		}
		if len(events) < pageSize {
			break
		}
	}
	cp := &Checkpoint{Head: make([]byte, sha256.Size), Time: c.Now().UTC()}
	if c.head != nil {
		cp.Count, cp.Head = c.head.Seq, c.head.Hash
	}
	if cp.Count == c.signed {
		return nil, nil
	}
	note, err := AppendCheckpoint(c.File, c.Key, cp)
	if err != nil {
		return nil, err
	}
	c.signed = cp.Count
	c.latest.Store(&note)
	if c.Publish != nil {
		if err := c.Publish(ctx, note); err != nil {
			c.Logger.Warn("audit checkpoint not published", "count", cp.Count, "err", err)
		}
	}
	return cp, nil
}
