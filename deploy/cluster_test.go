package deploy_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeFile is the part of a compose file the cluster test reads.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		DependsOn   yaml.Node         `yaml:"depends_on"`
	} `yaml:"services"`
	Secrets map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

// huellaHelp returns "huella COMMAND --help", built from this checkout.
func huellaHelp(t *testing.T, bin, command string) string {
	t.Helper()
	out, err := exec.Command(bin, command, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("huella %s --help: %v\n%s", command, err, out)
	}
	return string(out)
}

// TestClusterCompose checks deploy/compose.cluster.yaml without running it
// (no container engine is needed): the services the issue names are there
// (PostgreSQL, 3 NATS servers routed to each other in one cluster with
// JetStream, the S3 server, 2 API nodes, 2 shards × 2 matcher replicas),
// and every flag and $HUELLA_ variable a Huella service is given is one
// its command's --help lists.
func TestClusterCompose(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the huella binary")
	}
	raw, err := os.ReadFile("compose.cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("compose.cluster.yaml: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "huella")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/huella").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	helps := map[string]string{}
	var apis, nats []string
	shards := map[string]int{}
	flagRE := regexp.MustCompile(`^--?([a-z0-9-]+)`)
	for name, s := range c.Services {
		switch {
		case strings.HasPrefix(s.Image, "postgres:"), strings.Contains(s.Image, "seaweedfs"):
			continue
		case strings.HasPrefix(s.Image, "nats:"):
			nats = append(nats, name)
			args := strings.Join(s.Command, " ")
			if !strings.Contains(args, "--jetstream") || !strings.Contains(args, "--cluster_name huella") {
				t.Errorf("%s: %q lacks JetStream or the cluster", name, args)
			}
			for _, other := range []string{"nats-1", "nats-2", "nats-3"} {
				if other != name && !strings.Contains(args, "nats://"+other+":6222") {
					t.Errorf("%s has no route to %s", name, other)
				}
			}
			continue
		case s.Image != "huella:latest":
			t.Errorf("%s: unknown image %q", name, s.Image)
			continue
		}
		if len(s.Command) == 0 {
			t.Fatalf("%s: no command", name)
		}
		cmd := s.Command[0]
		if helps[cmd] == "" {
			helps[cmd] = huellaHelp(t, bin, cmd)
		}
		help := helps[cmd]
		for _, arg := range s.Command[1:] {
			if m := flagRE.FindStringSubmatch(arg); m != nil && !regexp.MustCompile(`(?m)^\s+-`+regexp.QuoteMeta(m[1])+`\b`).MatchString(help) {
				t.Errorf("%s: huella %s has no flag %s", name, cmd, arg)
			}
		}
		for env := range s.Environment {
			if strings.HasPrefix(env, "HUELLA_") && !regexp.MustCompile(`\$`+env+`\b`).MatchString(help) && cmd != "site" {
				t.Errorf("%s: huella %s does not read $%s", name, cmd, env)
			}
		}
		switch cmd {
		case "serve":
			apis = append(apis, name)
			if s.Environment["HUELLA_MATCHERS"] == "" || s.Environment["HUELLA_MATCHER_SHARDS"] != "2" {
				t.Errorf("%s: not on the matchers' 2 shards", name)
			}
			if !strings.HasPrefix(s.Environment["HUELLA_POSTGRES"], "postgres://") || !strings.HasPrefix(s.Environment["HUELLA_BLOBS"], "s3://") {
				t.Errorf("%s: records or images not shared (PostgreSQL, S3)", name)
			}
		case "matcher":
			i := slices.Index(s.Command, "--shard")
			if i < 0 || i+1 == len(s.Command) {
				t.Errorf("%s: no --shard", name)
				continue
			}
			shards[s.Command[i+1]]++
			if !strings.HasPrefix(s.Environment["HUELLA_SNAPSHOTS"], "s3://") {
				t.Errorf("%s: loads no snapshot", name)
			}
		}
	}
	slices.Sort(nats)
	if fmt.Sprint(nats) != "[nats-1 nats-2 nats-3]" {
		t.Errorf("NATS servers %v, want 3", nats)
	}
	if len(apis) != 2 {
		t.Errorf("API nodes %v, want 2", apis)
	}
	if len(shards) != 2 || shards["0/2"] != 2 || shards["1/2"] != 2 {
		t.Errorf("matchers by shard %v, want 2 replicas of 0/2 and of 1/2", shards)
	}
	// The one-off commands the header runs through the init service.
	for _, cmd := range []string{"snapshot", "user"} {
		if out, err := exec.Command(bin, cmd, "--help").CombinedOutput(); err != nil {
			t.Errorf("huella %s --help: %v\n%s", cmd, err, out)
		}
	}
	if !strings.Contains(helps["serve"], "$HUELLA_STREAM_REPLICAS") {
		t.Error("serve cannot replicate its streams over the NATS cluster")
	}
	if c.Secrets["huella_data_key"].File == "" {
		t.Error("the key-encryption key is not a secret")
	}
}
