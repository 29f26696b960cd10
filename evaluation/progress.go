package evaluation

import "context"

// ProgressFunc receives a long job's advance: done of total steps of a
// named stage ("extract", "compare"…). Concurrent workers may call it at
// once and out of order; the receiver keeps the largest done of a stage.
type ProgressFunc func(stage string, done, total int)

type progressKey struct{}

// WithProgress returns a context whose evaluations report their advance to
// fn. The reporter rides in the context, as net/http/httptrace's does, so
// that every engine's evaluation reports without a parameter of its own.
func WithProgress(ctx context.Context, fn ProgressFunc) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

// Progress tells the context's reporter, if it has one, that done of total
// steps of the stage are done. Call it once per image or probe, not per
// comparison: it costs a context lookup.
func Progress(ctx context.Context, stage string, done, total int) {
	if fn, ok := ctx.Value(progressKey{}).(ProgressFunc); ok && fn != nil {
		fn(stage, done, total)
	}
}
