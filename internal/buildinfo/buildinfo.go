// Package buildinfo reports which build of Huella is running: the module
// version, the VCS commit and the Go version, as the Go toolchain stamped
// them into the binary.
package buildinfo

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// Info is the identity of the running build.
type Info struct {
	Version   string `json:"version"`               // module version, "(devel)" for a build from a work tree
	Commit    string `json:"commit,omitempty"`      // VCS revision, when the build recorded it
	Time      string `json:"commit_time,omitempty"` // VCS commit time (RFC 3339)
	Modified  bool   `json:"modified,omitempty"`    // the work tree had uncommitted changes
	GoVersion string `json:"go"`                    // Go toolchain that built the binary
}

// version and commit, when set at link time (-ldflags "-X
// github.com/huella-abis/huella/internal/buildinfo.version=v1.2.3 -X
// ...buildinfo.commit=abc"), override what the toolchain recorded: a build
// from a source tree without .git (a container build context) has no VCS
// information of its own.
var version, commit string

// Read returns the build information of the running binary. A binary built
// without module support (rare) reports version "unknown".
var Read = sync.OnceValue(func() Info {
	bi, ok := debug.ReadBuildInfo()
	info := Info{Version: "unknown", GoVersion: "unknown"}
	if ok {
		info = fromBuildInfo(bi)
	}
	if version != "" {
		info.Version = version
	}
	if commit != "" {
		info.Commit, info.Modified = commit, false
	}
	return info
})

func fromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the one-line form "huella version" prints.
func (i Info) String() string {
	commit := i.Commit
	if commit == "" {
		commit = "unknown"
	}
	if i.Modified {
		commit += "+modified"
	}
	return fmt.Sprintf("huella %s (commit %s, %s)", i.Version, commit, i.GoVersion)
}
