package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/huella-abis/huella/blob"
	"github.com/huella-abis/huella/shard"
)

// openSnapshots opens the object storage of the gallery snapshots, rawURL
// (s3://BUCKET[/PREFIX]?endpoint=…), sealing and opening them with the
// app's blob keys, as the images are.
func openSnapshots(ctx context.Context, app *App, rawURL string) (*blob.S3Store, error) {
	if !strings.HasPrefix(rawURL, "s3://") {
		return nil, &ConfigError{"snapshots", "the snapshots' place is s3://BUCKET[/PREFIX]?endpoint=…"}
	}
	objects, err := blob.OpenS3(ctx, rawURL, app.key)
	if err != nil {
		return nil, err
	}
	if err := useBlobKeys(objects, app.Keys); err != nil {
		return nil, err
	}
	return objects, nil
}

// runSnapshot runs "huella snapshot": it writes the subject gallery, split
// into the matchers' shards, to object storage, where "huella matcher
// --snapshots" loads its shard from before it follows the gallery stream.
// It prints counts only.
func runSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := newFlagSet("snapshot", "huella snapshot --snapshots s3://BUCKET[/PREFIX]?endpoint=… --shards K [flags]", stderr)
	cfg.registerFlags(fs, false)
	to := fs.String("snapshots", os.Getenv("HUELLA_SNAPSHOTS"), "where the snapshots go: s3://BUCKET[/PREFIX]?endpoint=HOST:PORT[&region=R][&insecure=true], sealed with the image key ($HUELLA_SNAPSHOTS)")
	count := fs.Int("shards", envInt("HUELLA_MATCHER_SHARDS", 1), "how many shards the matchers split the subjects into ($HUELLA_MATCHER_SHARDS)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if *to == "" {
		return &ConfigError{"snapshots", "give where the snapshots go (--snapshots s3://…)"}
	}
	if *count < 1 {
		return &ConfigError{"shards", "at least 1"}
	}
	cfg.Existing = true
	app, err := OpenApp(ctx, cfg, newLogger(stderr).With("component", "snapshot"))
	if err != nil {
		return err
	}
	defer app.Close()
	objects, err := openSnapshots(ctx, app, *to)
	if err != nil {
		return err
	}
	start := time.Now()
	m, err := shard.WriteSnapshots(ctx, app.Store, objects, *count, start)
	if err != nil {
		return err
	}
	total := 0
	for _, n := range m.Templates {
		total += n
	}
	fmt.Fprintf(stdout, "Snapshot of %d templates in %d shards, up to gallery event %d, written in %.1fs\n",
		total, m.Shards, m.Seq, time.Since(start).Seconds())
	return nil
}
