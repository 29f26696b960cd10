package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchShardsReplicasClients runs "huella bench shards" with 2 shards
// of 2 replicas searched by 2 clients at once: every probe answered in
// full, its mate first, and a throughput reported.
func TestBenchShardsReplicasClients(t *testing.T) {
	out := MustRun(t, "bench", "shards", "--modalities", "iris", "--subjects", "300", "--probes", "12",
		"--shards", "2", "--replicas", "2", "--clients", "2", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r shardsBenchResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if r.Probes != 12 || r.Partial != 0 || r.HitRateRank1 != 1 || r.Replicas != 2 || r.Clients != 2 || r.ProbesPerSecond <= 0 {
		t.Errorf("bench shards: %+v; want 12 complete probes, each mate first, at some rate", r)
	}
}
