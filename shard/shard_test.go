package shard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/gallery"
	"github.com/huella-abis/huella/internal/natstest"
	"github.com/huella-abis/huella/internal/synth"
	"github.com/huella-abis/huella/shard"
)

// LocalURL is the NATS server CI runs; the tests use it with
// $HUELLA_TEST_NATS=external, else a server embedded in the test.
const LocalURL = "nats://127.0.0.1:4222"

// MustNATS returns the URL of a NATS server for the test: one started in
// the process on a loopback port (shut down at the end), or the external
// one when $HUELLA_TEST_NATS names it.
func MustNATS(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv("HUELLA_TEST_NATS"); u != "" {
		return u
	}
	return natstest.Server(tb).ClientURL()
}

// MustConnect returns a connection closed at the end of the test.
func MustConnect(tb testing.TB, url string) *nats.Conn {
	tb.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatalf("connect %s: %v", url, err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// population is synthetic subjects (two fingers and two irises: the finger
// comparator is slow on the shared test machine) and mates of some.
type population struct {
	templates []*huella.Template
	mates     [][]*huella.Template // probes of enrolled subjects
	mateOf    []string
	strangers [][]*huella.Template // probes of people not enrolled
}

var mods = map[huella.Modality]bool{huella.ModalityFinger: true, huella.ModalityIris: true}

func makePopulation(n, probes int) *population {
	gen := synth.New(17)
	p := &population{}
	for i := range n {
		person := gen.Person(mods)
		id := fmt.Sprintf("sub_%06d", i)
		p.templates = append(p.templates, twoFingers(person.Templates(id, mods))...)
		if i%(n/probes) == 0 {
			p.mates = append(p.mates, twoFingers(gen.Mate(person).Templates("", mods)))
			p.mateOf = append(p.mateOf, id)
		}
	}
	for range probes / 2 {
		p.strangers = append(p.strangers, twoFingers(gen.Person(mods).Templates("", mods)))
	}
	return p
}

// twoFingers keeps the thumbs of a ten-print and the other modalities.
func twoFingers(ts []*huella.Template) []*huella.Template {
	var out []*huella.Template
	for _, t := range ts {
		if t.Modality != huella.ModalityFinger || t.Position == 1 || t.Position == 6 {
			out = append(out, t)
		}
	}
	return out
}

func newGallery(tb testing.TB) *gallery.Gallery {
	tb.Helper()
	cals, err := fusion.Default()
	if err != nil {
		tb.Fatal(err)
	}
	// The two-stage finger index: its subject-level first stage is the
	// part of the search whose sharding needs care.
	return gallery.New([]engine.Engine{engine.Finger{}, engine.Iris{}}, cals)
}

// oneBox is the population in one gallery, as a single API node holds it.
func (p *population) oneBox(tb testing.TB) *gallery.Gallery {
	g := newGallery(tb)
	for _, t := range p.templates {
		if err := g.Add(t); err != nil {
			tb.Fatal(err)
		}
	}
	return g
}

// replica is one matcher process: its own connection and gallery.
type replica struct {
	m  *shard.Matcher
	nc *nats.Conn
}

// kill drops the replica's connection as a crash would: requests in its
// hands are never answered.
func (r *replica) kill() { r.nc.Close() }

// startReplica starts a replica of spec over the population.
func (p *population) startReplica(tb testing.TB, url string, spec shard.Spec, prefix string) *replica {
	tb.Helper()
	m := &shard.Matcher{Spec: spec, Gallery: newGallery(tb), Prefix: prefix}
	for _, t := range p.templates {
		if spec.Holds(t.SubjectID) {
			if err := m.Gallery.Add(t); err != nil {
				tb.Fatal(err)
			}
		}
	}
	nc := MustConnect(tb, url)
	if err := m.Open(nc); err != nil {
		tb.Fatal(err)
	}
	return &replica{m: m, nc: nc}
}

var testPrefixes sync.Map

// uniquePrefix keeps the tests apart on a shared external server.
func uniquePrefix(t *testing.T) string {
	p := fmt.Sprintf("huella.test.%d", time.Now().UnixNano())
	testPrefixes.Store(t.Name(), p)
	return p
}

func newClient(tb testing.TB, url string, count int, prefix string) *shard.Client {
	tb.Helper()
	c, err := shard.NewClient(MustConnect(tb, url), count)
	if err != nil {
		tb.Fatal(err)
	}
	c.Prefix = prefix
	tb.Cleanup(func() { c.Close() })
	return c
}

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want shard.Spec
		ok   bool
	}{{"0/2", shard.Spec{0, 2}, true}, {"1/2", shard.Spec{1, 2}, true}, {"0/1", shard.Spec{0, 1}, true},
		{"2/2", shard.Spec{}, false}, {"-1/2", shard.Spec{}, false}, {"1", shard.Spec{}, false}, {"a/b", shard.Spec{}, false}, {"0/0", shard.Spec{}, false}} {
		got, err := shard.ParseSpec(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSpec(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestOf pins the hash (a change would move every subject to another
// shard) and checks it spreads subjects evenly.
func TestOf(t *testing.T) {
	if got := shard.Of("sub_000001", 2); got != shard.Of("sub_000001", 2) {
		t.Fatal("Of is not stable")
	}
	// FNV-1a 64 of "abc" is 0xe71fa2190541574b.
	if got, want := shard.Of("abc", 1000), int(uint64(0xe71fa2190541574b)%1000); got != want {
		t.Errorf("Of(abc, 1000) = %d, want %d", got, want)
	}
	counts := make([]int, 4)
	for i := range 10000 {
		counts[shard.Of(fmt.Sprintf("sub_%06d", i), 4)]++
	}
	for i, n := range counts {
		if n < 2300 || n > 2700 {
			t.Errorf("shard %d/4 holds %d of 10000 subjects", i, n)
		}
	}
}

// TestSameAsOneGallery: the merged candidates of K shards are those of
// one gallery holding every subject, LLRs equal to the bit.
func TestSameAsOneGallery(t *testing.T) {
	p := makePopulation(80, 8)
	box := p.oneBox(t)
	url := MustNATS(t)
	review := fusion.LLRForFMR(1e-3)
	ctx := context.Background()
	probes := append(append([][]*huella.Template{}, p.mates...), p.strangers...)
	minLLRs := []float64{review, -1e9} // -1e9: every candidate, far below review
	want := make([][][]*huella.Candidate, len(minLLRs))
	for j, minLLR := range minLLRs {
		for _, probe := range probes {
			cands, err := box.Identify(ctx, probe, 10, minLLR)
			if err != nil {
				t.Fatal(err)
			}
			want[j] = append(want[j], cands)
		}
	}
	for _, count := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d shards", count), func(t *testing.T) {
			prefix := uniquePrefix(t)
			for i := range count {
				p.startReplica(t, url, shard.Spec{i, count}, prefix)
			}
			c := newClient(t, url, count, prefix)
			c.Deadline = time.Minute // the test machine is loaded: a miss here is not the point
			for j, minLLR := range minLLRs {
				for i, probe := range probes {
					got, complete, err := c.Search(ctx, probe, 10, minLLR)
					if err != nil || !complete {
						t.Fatalf("probe %d: Search: complete %v, %v", i, complete, err)
					}
					if g, w := mustJSON(t, got), mustJSON(t, want[j][i]); g != w {
						t.Errorf("probe %d min %g: sharded\n%s\none gallery\n%s", i, minLLR, g, w)
					}
				}
			}
			for i, probe := range p.mates {
				want, err := box.Verify(ctx, probe, p.mateOf[i])
				if err != nil {
					t.Fatal(err)
				}
				got, err := c.Verify(ctx, probe, p.mateOf[i])
				if err != nil {
					t.Fatal(err)
				}
				if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
					t.Errorf("verify %d: sharded %s, one gallery %s", i, g, w)
				}
			}
			if _, err := c.Verify(ctx, p.mates[0], "sub_unknown"); huella.ErrorCode(err) != huella.ENOTFOUND {
				t.Errorf("verify of an unknown subject: %v, want ENOTFOUND", err)
			}
		})
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestReplicaKilledDuringBurst: a replica of each shard dies with
// searches in hand; the other replica answers them, and none fails or is
// partial.
func TestReplicaKilledDuringBurst(t *testing.T) {
	p := makePopulation(80, 8)
	url := MustNATS(t)
	prefix := uniquePrefix(t)
	var victims []*replica
	for i := range 2 {
		victims = append(victims, p.startReplica(t, url, shard.Spec{i, 2}, prefix))
		p.startReplica(t, url, shard.Spec{i, 2}, prefix)
	}
	c := newClient(t, url, 2, prefix)
	c.Deadline, c.Resend = time.Minute, 2*time.Second
	ctx := context.Background()
	review := fusion.LLRForFMR(1e-3)
	const burst = 24
	var wg sync.WaitGroup
	errs := make(chan error, burst)
	for i := range burst {
		wg.Go(func() {
			probe := p.mates[i%len(p.mates)]
			got, complete, err := c.Search(ctx, probe, 10, review)
			switch {
			case err != nil:
				errs <- err
			case !complete:
				errs <- fmt.Errorf("search %d partial", i)
			case len(got) == 0 || got[0].SubjectID != p.mateOf[i%len(p.mates)]:
				errs <- fmt.Errorf("search %d: mate not first", i)
			}
		})
		if i == burst/3 {
			for _, v := range victims {
				v.kill()
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestShardDown: with every replica of a shard gone, searches are
// partial (never a complete answer missing the shard's subjects), and
// complete again once a replica is back.
func TestShardDown(t *testing.T) {
	p := makePopulation(60, 10)
	url := MustNATS(t)
	prefix := uniquePrefix(t)
	p.startReplica(t, url, shard.Spec{0, 2}, prefix)
	down := []*replica{p.startReplica(t, url, shard.Spec{1, 2}, prefix), p.startReplica(t, url, shard.Spec{1, 2}, prefix)}
	c := newClient(t, url, 2, prefix)
	c.Deadline, c.Resend = 500*time.Millisecond, 100*time.Millisecond
	ctx := context.Background()
	for _, r := range down {
		r.kill()
	}
	_, complete, err := c.Search(ctx, p.mates[0], 10, 0)
	if err != nil || complete {
		t.Fatalf("search with shard 1/2 down: complete %v, %v; want partial", complete, err)
	}
	if _, err := c.Identify(ctx, p.mates[0], 10, 0); huella.ErrorCode(err) != huella.EUNAVAILABLE {
		t.Errorf("Identify with shard 1/2 down: %v, want EUNAVAILABLE", err)
	}
	p.startReplica(t, url, shard.Spec{1, 2}, prefix)
	c.Deadline = time.Minute
	if _, complete, err := c.Search(ctx, p.mates[0], 10, 0); err != nil || !complete {
		t.Errorf("search with shard 1/2 back: complete %v, %v", complete, err)
	}
}

// TestUpdates: an added template is found by the next search, a removed
// subject no longer; the client returns once a replica applied it.
func TestUpdates(t *testing.T) {
	p := makePopulation(60, 10)
	url := MustNATS(t)
	prefix := uniquePrefix(t)
	var all []*replica
	for i := range 2 {
		all = append(all, p.startReplica(t, url, shard.Spec{i, 2}, prefix), p.startReplica(t, url, shard.Spec{i, 2}, prefix))
	}
	c := newClient(t, url, 2, prefix)
	c.Deadline = time.Minute
	ctx := context.Background()
	gen := synth.New(99)
	person := gen.Person(mods)
	if err := c.Add(ctx, twoFingers(person.Templates("sub_new", mods))); err != nil {
		t.Fatal(err)
	}
	probe := twoFingers(gen.Mate(person).Templates("", mods))
	// Every replica of the subject's shard applies it (each search may go
	// to either): search until both have answered.
	for range 8 {
		got, complete, err := c.Search(ctx, probe, 10, fusion.LLRForFMR(1e-3))
		if err != nil || !complete || len(got) == 0 || got[0].SubjectID != "sub_new" {
			t.Fatalf("after Add: %v complete %v, %v; want sub_new first", got, complete, err)
		}
	}
	if err := c.Remove(ctx, []string{"sub_new"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the replica that did not answer applies it too
	for range 8 {
		got, _, err := c.Search(ctx, probe, 10, fusion.LLRForFMR(1e-3))
		if err != nil {
			t.Fatal(err)
		}
		for _, cand := range got {
			if cand.SubjectID == "sub_new" {
				t.Fatal("a removed subject is still found")
			}
		}
	}
	for _, r := range all {
		if r.m.Served() == 0 && r.m.Spec.Holds("sub_new") {
			t.Logf("replica of %s served no search", r.m.Spec)
		}
	}
}
