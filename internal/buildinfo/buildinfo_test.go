package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	info := Read()
	if info.GoVersion != runtime.Version() {
		t.Errorf("GoVersion = %q, want %q", info.GoVersion, runtime.Version())
	}
	if info.Version == "" {
		t.Error("empty version")
	}
}

func TestFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/huella-abis/huella", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-07T04:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := fromBuildInfo(bi)
	want := Info{Version: "v1.2.3", Commit: "abc123", Time: "2026-12-07T04:00:00Z", Modified: true, GoVersion: "go1.26.8"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if s := got.String(); !strings.Contains(s, "v1.2.3") || !strings.Contains(s, "abc123+modified") || !strings.Contains(s, "go1.26.8") {
		t.Errorf("String() = %q", s)
	}
	if got := fromBuildInfo(&debug.BuildInfo{GoVersion: "go1.26.8"}); got.Version != "(devel)" || !strings.Contains(got.String(), "commit unknown") {
		t.Errorf("no version: %+v %q", got, got.String())
	}
}
