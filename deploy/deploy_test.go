// Package deploy_test checks the packaging: the container image builds and
// its binary runs, where a container engine answers.
package deploy_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDockerImage builds the image from the repository's Dockerfile and
// runs "huella version" in it. Without a container engine (no docker
// command, or no daemon answering) it skips, also under CI: the image is
// not built on machines without one.
func TestDockerImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a container image")
	}
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("no docker command: the image build is not tested here")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, docker, "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("no Docker engine answers (%v: %s): the image build is not tested here", err, strings.TrimSpace(lastLine(string(out))))
	}
	tag := "huella-test:" + time.Now().Format("20060102150405")
	build := exec.CommandContext(ctx, docker, "build", "--build-arg", "VERSION=v0.0.0-test", "-t", tag, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("docker build: %v", err)
	}
	defer exec.Command(docker, "rmi", "-f", tag).Run()
	out, err := exec.CommandContext(ctx, docker, "run", "--rm", tag, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "huella v0.0.0-test") {
		t.Fatalf("docker run %s version: %v: %s", tag, err, out)
	}
	out, err = exec.CommandContext(ctx, docker, "run", "--rm", "--entrypoint", "", tag, "/usr/local/bin/huella", "help").CombinedOutput()
	if err != nil {
		t.Fatalf("huella help in the image: %v: %s", err, out)
	}
	user, err := exec.CommandContext(ctx, docker, "image", "inspect", "--format", "{{.Config.User}}", tag).Output()
	if err != nil || strings.TrimSpace(string(user)) == "" || strings.HasPrefix(string(user), "0") || strings.HasPrefix(string(user), "root") {
		t.Errorf("image user = %q (%v), want a non-root user", user, err)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
