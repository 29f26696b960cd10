package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeTLSFlags: a certificate without its key, or a pair that does not
// load, stops serve at start with a clear error, before any data is
// written.
func TestServeTLSFlags(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"ErrCertWithoutKey", []string{"--tls-cert", junk}, "--tls-cert and --tls-key go together"},
		{"ErrBadPair", []string{"--tls-cert", junk, "--tls-key", junk}, "tls certificate and key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(dir, tt.name)
			var stdout, stderr bytes.Buffer
			args := append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0"}, tt.args...)
			err := Run(context.Background(), args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one saying %q", err, tt.want)
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Errorf("the data directory was created (%v)", err)
			}
		})
	}
}
