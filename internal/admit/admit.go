// Package admit bounds what uploads of images may take from the process at
// once: the memory their bodies are held in, and how many are decoded and
// searched at the same time. A hostile or careless client gets a clear
// error or waits its turn; it cannot exhaust the memory of the server.
package admit

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime"

	"golang.org/x/sync/semaphore"

	"github.com/huella-abis/huella"
)

// Defaults of a Gate.
const (
	// DefaultMemory is the total size of upload bodies held at once. Each
	// body counts twice: the bytes read and the parts parsed from them. One
	// body at the 64 MB cap fits, with room for honest encounters of a few
	// megabytes beside it; 16 such uploads at once peak at ~610 MB resident
	// (BENCHMARKS.md, "Abuse").
	DefaultMemory = 128 << 20
)

// DefaultDecodes is how many uploads are decoded and searched at once by
// default: two per core, so that a core waiting on the store or the disk
// for one enrollment has another to work on, and a few clients with long
// enrollments are not queued behind each other past their timeouts.
func DefaultDecodes() int { return 2 * runtime.GOMAXPROCS(0) }

// Gate admits uploads: a request's body is read whole, under a hard cap,
// only once the memory to hold it is free, and its handler runs only in
// one of a bounded number of decode slots. One Gate serves the API and
// the console, so that both draw on the same budget.
type Gate struct {
	memory  *semaphore.Weighted
	total   int64
	decodes chan struct{}
}

// NewGate returns a gate holding at most memory bytes of bodies (counted
// twice each, see DefaultMemory) and running at most decodes uploads at
// once. Zero values take the defaults.
func NewGate(memory int64, decodes int) *Gate {
	if memory <= 0 {
		memory = DefaultMemory
	}
	if decodes <= 0 {
		decodes = DefaultDecodes()
	}
	return &Gate{memory: semaphore.NewWeighted(memory), total: memory, decodes: make(chan struct{}, decodes)}
}

// Admit reads r's whole body, at most maxBody bytes, once the memory for
// it is free, then waits for a decode slot. It returns the body and a
// release function the caller must call when the upload is handled. A
// body declared or found larger than maxBody is ETOOLARGE, refused before
// it is read (declared) or as soon as the cap is passed (chunked); a
// client that goes away while waiting gets the context's error.
func (g *Gate) Admit(r *http.Request, maxBody int64) ([]byte, func(), error) {
	ctx := r.Context()
	if r.ContentLength > maxBody {
		return nil, nil, tooLarge(maxBody)
	}
	want := r.ContentLength
	if want < 0 {
		want = maxBody // chunked: reserve the cap, give back the rest
	}
	held := min(2*want, g.total)
	if err := g.memory.Acquire(ctx, held); err != nil {
		return nil, nil, waitError(ctx)
	}
	var buf bytes.Buffer
	buf.Grow(int(min(want, maxBody)) + bytes.MinRead)
	_, err := buf.ReadFrom(io.LimitReader(r.Body, maxBody+1))
	if err == nil && int64(buf.Len()) > maxBody {
		err = tooLarge(maxBody)
	}
	if err != nil {
		g.memory.Release(held)
		if huella.ErrorCode(err) == huella.ETOOLARGE {
			return nil, nil, err
		}
		return nil, nil, huella.Errorf(huella.EINVALID, "the request body could not be read")
	}
	if need := min(2*int64(buf.Len()), g.total); need < held {
		g.memory.Release(held - need)
		held = need
	}
	select {
	case g.decodes <- struct{}{}:
	case <-ctx.Done():
		g.memory.Release(held)
		return nil, nil, waitError(ctx)
	}
	release := func() {
		<-g.decodes
		g.memory.Release(held)
	}
	return buf.Bytes(), release, nil
}

// Wrap admits r (Admit) and hands the handler a request whose body is the
// bytes read; onError writes a refusal.
func (g *Gate) Wrap(w http.ResponseWriter, r *http.Request, maxBody int64, next func(http.ResponseWriter, *http.Request), onError func(error)) {
	body, release, err := g.Admit(r, maxBody)
	if err != nil {
		onError(err)
		return
	}
	defer release()
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	next(w, r)
}

func tooLarge(maxBody int64) error {
	return huella.Errorf(huella.ETOOLARGE, "request larger than %d bytes", maxBody)
}

// waitError is the error of a request that gave up waiting for its turn.
func waitError(ctx context.Context) error {
	return huella.Errorf(huella.EUNAVAILABLE, "the request was cancelled while waiting for its turn: %v", ctx.Err())
}
