package shard_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/blob"
	"github.com/huella-abis/huella/fusion"
	"github.com/huella-abis/huella/shard"
)

// MustObjects opens a fresh prefix of the S3 test bucket ($HUELLA_TEST_S3,
// the SeaweedFS server .ci/run starts) with a fresh key. Without it the
// test is skipped, or failed when CI=true.
func MustObjects(tb testing.TB) *blob.S3Store {
	tb.Helper()
	raw := os.Getenv("HUELLA_TEST_S3")
	if raw == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("$HUELLA_TEST_S3 is not set: CI must run the snapshot tests against the S3 server .ci/run starts")
		}
		tb.Skip("no S3-compatible test server: set $HUELLA_TEST_S3 (see .ci/run) to run this test")
	}
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	client, err := minio.New(u.Query().Get("endpoint"), &minio.Options{Creds: credentials.NewEnvAWS(), Secure: u.Query().Get("insecure") != "true"})
	if err != nil {
		tb.Fatal(err)
	}
	if ok, err := client.BucketExists(ctx, u.Host); err != nil {
		tb.Fatalf("S3 test server: %v", err)
	} else if !ok {
		if err := client.MakeBucket(ctx, u.Host, minio.MakeBucketOptions{}); err != nil {
			tb.Fatal(err)
		}
	}
	var r [6]byte
	rand.Read(r[:])
	u.Path = "/test-snapshots-" + hex.EncodeToString(r[:])
	key := make([]byte, blob.KeySize)
	rand.Read(key)
	s, err := blob.OpenS3(ctx, u.String(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// populationSource is the population as a store's subject gallery, with
// an outbox whose head is head.
type populationSource struct {
	p    *population
	head int64
}

func (s *populationSource) ForEachTemplate(ctx context.Context, kind huella.GalleryKind, fn func(*huella.Template) error) error {
	for _, t := range s.p.templates {
		if err := fn(t); err != nil {
			return err
		}
	}
	return nil
}

func (s *populationSource) GalleryEventHead(ctx context.Context) (int64, error) { return s.head, nil }

// TestSnapshots writes the population's snapshot in 2 and 3 shards to a
// real S3 server, loads each shard's matcher from it, and searches them
// over NATS: the same candidates as one gallery holding everyone, from the
// seq the snapshot was taken at. A newer snapshot replaces it, and the
// one before is deleted by the one after.
func TestSnapshots(t *testing.T) {
	objects := MustObjects(t)
	p := makePopulation(80, 8)
	box := p.oneBox(t)
	ctx := context.Background()
	natsURL := MustNATS(t)
	review := fusion.LLRForFMR(1e-3)
	if _, _, err := (&shard.Matcher{Spec: shard.Spec{0, 2}, Gallery: newGallery(t)}).LoadSnapshot(ctx, objects); huella.ErrorCode(err) != huella.ENOTFOUND {
		t.Fatalf("LoadSnapshot before any snapshot: %v, want ENOTFOUND", err)
	}
	for _, count := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d shards", count), func(t *testing.T) {
			src := &populationSource{p: p, head: 41 + int64(count)}
			man, err := shard.WriteSnapshots(ctx, src, objects, count, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			prefix := uniquePrefix(t)
			total := 0
			for i := range count {
				m := &shard.Matcher{Spec: shard.Spec{i, count}, Gallery: newGallery(t), Prefix: prefix}
				seq, n, err := m.LoadSnapshot(ctx, objects)
				if err != nil {
					t.Fatal(err)
				}
				if seq != src.head || n != man.Templates[i] {
					t.Fatalf("shard %d/%d: loaded %d templates up to %d; want %d up to %d", i, count, n, seq, man.Templates[i], src.head)
				}
				want := 0
				for _, tp := range p.templates {
					if shard.Of(tp.SubjectID, count) == i {
						want++
					}
				}
				if n != want {
					t.Fatalf("shard %d/%d holds %d templates, want the %d of its subjects", i, count, n, want)
				}
				total += n
				if _, _, err := m.LoadSnapshot(ctx, objects); huella.ErrorCode(err) != huella.ECONFLICT {
					t.Fatalf("a second load into a full gallery: %v, want ECONFLICT", err)
				}
				if err := m.Open(MustConnect(t, natsURL)); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { m.Close() })
			}
			if total != len(p.templates) {
				t.Fatalf("the shards hold %d templates, the population %d", total, len(p.templates))
			}
			c := newClient(t, natsURL, count, prefix)
			c.Deadline = time.Minute
			// A few probes: TestSameAsOneGallery covers the merge itself.
			for i, probe := range append(append([][]*huella.Template{}, p.mates[:3]...), p.strangers[:1]...) {
				want, err := box.Identify(ctx, probe, 10, review)
				if err != nil {
					t.Fatal(err)
				}
				got, complete, err := c.Search(ctx, probe, 10, review)
				if err != nil || !complete {
					t.Fatalf("probe %d: complete %v, %v", i, complete, err)
				}
				if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
					t.Errorf("probe %d: from the snapshots\n%s\none gallery\n%s", i, g, w)
				}
			}
		})
	}
	t.Run("Replaced", func(t *testing.T) {
		src := &populationSource{p: &population{templates: p.templates[:10]}}
		var mans []*shard.SnapshotManifest
		for head := range int64(3) {
			src.head = 100 + head
			man, err := shard.WriteSnapshots(ctx, src, objects, 2, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			mans = append(mans, man)
		}
		got, err := shard.ReadManifest(ctx, objects, 2)
		if err != nil || got.Seq != 102 {
			t.Fatalf("newest manifest: %+v, %v; want seq 102", got, err)
		}
		for i, man := range mans {
			for _, name := range man.Objects {
				r, err := objects.GetStream(ctx, name)
				if err == nil {
					r.Close()
				}
				if kept := err == nil; kept != (i > 0) {
					t.Errorf("snapshot %d's %s kept: %v (%v); want only the newest two kept", i, name, kept, err)
				}
			}
		}
	})
}
