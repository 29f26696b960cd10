package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/blob"
	"github.com/huella-abis/huella/sqlite"
	"github.com/huella-abis/huella/storetest"
)

// runErr runs a huella command in-process and returns its error.
func runErr(args ...string) error {
	var stdout, stderr bytes.Buffer
	return Run(context.Background(), args, &stdout, &stderr)
}

// fileBytes returns the contents of the files, missing ones as empty.
func fileBytes(paths ...string) []byte {
	var all []byte
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		all = append(all, b...)
		all = append(all, 0)
	}
	return all
}

func TestKeyFile(t *testing.T) {
	addSite := func(data string, extra ...string) error {
		return runErr(append([]string{"site", "add", "--data", data, "--code", "MX-TAP", "--name", "Tapachula",
			"--country", "MEX", "--tz", "America/Mexico_City"}, extra...)...)
	}
	t.Run("ErrKeyInData", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		err := addSite(data, "--key-file", filepath.Join(data, "keys", "kek"))
		if err == nil || !strings.Contains(err.Error(), "inside the data directory") || !strings.Contains(err.Error(), "--allow-key-in-data") {
			t.Fatalf("err = %v, want a refusal naming --allow-key-in-data", err)
		}
		if _, err := os.Stat(data); err == nil {
			t.Error("the refused command created the data directory")
		}
	})
	t.Run("AllowKeyInData", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		if err := addSite(data, "--key-file", filepath.Join(data, "keys", "kek"), "--allow-key-in-data"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrLegacyKeyInData", func(t *testing.T) {
		// A data directory from before the key hierarchy keeps its key
		// inside: it is refused until moved out or allowed.
		data := filepath.Join(t.TempDir(), "data")
		os.MkdirAll(filepath.Join(data, "keys"), 0o700)
		key := make([]byte, 32)
		rand.Read(key)
		os.WriteFile(filepath.Join(data, "keys", "data.key"), key, 0o600)
		if err := addSite(data); err == nil || !strings.Contains(err.Error(), "inside the data directory") {
			t.Fatalf("err = %v, want a refusal", err)
		}
		if err := addSite(data, "--allow-key-in-data"); err != nil {
			t.Fatal(err)
		}
	})

	// A data directory with its key beside it (the default).
	data := filepath.Join(t.TempDir(), "data")
	if err := addSite(data); err != nil {
		t.Fatal(err)
	}
	kek := data + ".key"
	good, err := os.ReadFile(kek)
	if err != nil {
		t.Fatalf("the default key beside the data directory: %v", err)
	}
	db := filepath.Join(data, "huella.db")
	t.Run("ErrWrongKey", func(t *testing.T) {
		other := make([]byte, 32)
		rand.Read(other)
		os.WriteFile(kek, other, 0o600)
		defer os.WriteFile(kek, good, 0o600)
		before := fileBytes(db, db+"-wal")
		err := runErr("site", "list", "--data", data)
		if err == nil || !strings.Contains(err.Error(), "wrong --key-file or $HUELLA_KEK") {
			t.Fatalf("err = %v, want a clear error", err)
		}
		err = runErr("user", "add", "--data", data, "--name", "x", "--role", "admin")
		if err == nil || !strings.Contains(err.Error(), "wrong --key-file") {
			t.Fatalf("user add: err = %v, want a clear error", err)
		}
		if !bytes.Equal(before, fileBytes(db, db+"-wal")) {
			t.Error("a wrong key changed the database")
		}
	})
	t.Run("ErrMissingKey", func(t *testing.T) {
		os.Remove(kek)
		defer os.WriteFile(kek, good, 0o600)
		before := fileBytes(db, db+"-wal")
		err := runErr("user", "add", "--data", data, "--name", "x", "--role", "admin")
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("err = %v, want a clear error", err)
		}
		if _, err := os.Stat(kek); err == nil {
			t.Error("a new key was made for a database encrypted under another")
		}
		if !bytes.Equal(before, fileBytes(db, db+"-wal")) {
			t.Error("a missing key changed the database")
		}
	})
	t.Run("KEKFromEnvironment", func(t *testing.T) {
		os.Remove(kek)
		defer os.WriteFile(kek, good, 0o600)
		t.Setenv("HUELLA_KEK", strings.ToUpper(string(hexOf(good))))
		out := MustRun(t, "keys", "status", "--data", data)
		if !strings.Contains(out, "active") || !strings.Contains(out, "KEK kek-") {
			t.Errorf("keys status = %q", out)
		}
	})
}

func hexOf(b []byte) []byte {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return out
}

// TestRotateUnderLoad enrolls while "huella keys rotate" runs, kills the
// rotation with SIGKILL midway, resumes it with "huella keys reencrypt"
// while enrollment goes on, and checks that every record and image still
// decrypts, nothing is lost, and the old key is retired.
func TestRotateUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	data := t.TempDir()
	MustRun(t, "site", "add", "--data", data, "--code", "MX-BENCH", "--name", "Rotation test", "--country", "MEX", "--tz", "America/Mexico_City")
	officer := MustAddUser(t, data, "--name", "officer", "--role", "officer", "--site", "MX-BENCH")
	supervisor := MustAddUser(t, data, "--name", "supervisor", "--role", "supervisor")
	srv := MustServe(t, data, freeAddr(t))
	images, err := benchImages()
	if err != nil {
		t.Fatal(err)
	}
	clients := startEnrolling(t, srv, officer, images, 3, 30*time.Second)
	deadline := time.Now().Add(120 * time.Second)
	for len(clients.Acked()) < 8 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	before := keysByPurpose(t, data)

	// Rotate one row per transaction, and kill it a few batches in.
	var logs bytes.Buffer
	rotate := exec.Command(os.Args[0], "keys", "rotate", "--data", data, "--batch", "1")
	rotate.Env = append(os.Environ(), "HUELLA_RUN_MAIN=1")
	rotate.Stdout, rotate.Stderr = &logs, &logs
	if err := rotate.Start(); err != nil {
		t.Fatal(err)
	}
	for reencrypted(t, data) < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := rotate.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	rotate.Wait()
	status := MustRun(t, "keys", "status", "--data", data)
	if !strings.Contains(status, "fields under older keys") {
		t.Fatalf("the rotation finished before it was killed (%d batches): %s\n%s", reencrypted(t, data), status, logs.String())
	}
	t.Logf("killed midway:\n%s", status)

	// Resume while enrolling.
	out := MustRun(t, "keys", "reencrypt", "--data", data)
	t.Log(out)
	clients.Stop()
	acked := clients.Acked()
	after := keysByPurpose(t, data)
	oldKey := before[huella.KeyPurposeData][0]
	if !strings.Contains(out, "data key "+oldKey+" retired") {
		t.Errorf("the old key %s was not retired: %s", oldKey, out)
	}
	if len(after[huella.KeyPurposeData]) != 2 || after["retired"] == nil || after["retired"][0] != oldKey {
		t.Errorf("keys after: %v", after)
	}
	// A second pass: what enrollment sealed during the first is under the new key already.
	out = MustRun(t, "keys", "reencrypt", "--data", data)
	if !strings.Contains(out, "re-encrypted 0 records") {
		t.Errorf("a second pass found records to move: %s", out)
	}
	for _, id := range acked {
		checkComplete(t, srv, supervisor, id, len(images))
	}
	code, body := srv.get(t, supervisor, "/v1/encounters?limit=1000&name=")
	if code != 200 {
		t.Fatalf("list: %d %s", code, body)
	}
	t.Logf("%d encounters enrolled during the rotation, all decrypt", len(acked))
}

// reencrypted counts the batches re-encryption committed.
func reencrypted(t *testing.T, data string) int {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(data, "huella.db")+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	db.QueryRow(`SELECT count(*) FROM audit_events WHERE action = ?`, huella.ActionKeyReencrypt).Scan(&n)
	return n
}

// keysByPurpose returns the IDs of the keys by purpose, and the retired
// ones under "retired".
func keysByPurpose(t *testing.T, data string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(data, "huella.db")+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, purpose, retired_at FROM keys ORDER BY created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, purpose string
		var retired int64
		rows.Scan(&id, &purpose, &retired)
		out[purpose] = append(out[purpose], id)
		if retired != 0 {
			out["retired"] = append(out["retired"], id)
		}
	}
	return out
}

// TestUpgradeLegacyDataDirectory opens a data directory from before the key
// hierarchy (its key inside, records in the clear, images sealed with the
// key file itself): allowed, its images still open, and "huella keys
// reencrypt" seals its records.
// mustLegacyDataDirectory makes a data directory as Huella wrote it before
// the key hierarchy: its key inside, an encounter with the planted values
// and two templates in the clear, an image sealed with the key file itself.
// It returns the directory and the image's reference.
func mustLegacyDataDirectory(t *testing.T) (data, ref string) {
	t.Helper()
	data = t.TempDir()
	keyFile := filepath.Join(data, "keys", "data.key")
	key, err := blob.LoadOrCreateKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(filepath.Join(data, "huella.db")) // no keys: as before
	if err != nil {
		t.Fatal(err)
	}
	images, err := blob.NewFileStore(filepath.Join(data, "blobs"), key)
	if err != nil {
		t.Fatal(err)
	}
	ctx := storetest.Context()
	ref, err = images.Put(ctx, []byte("an image from before"))
	if err != nil {
		t.Fatal(err)
	}
	storetest.MustCreateSite(t, store, "MX-TAP")
	e := storetest.PlantedEncounter(storetest.Date(2026, 1, 2, 3))
	e.Samples[0].ImageRef = ref
	storetest.MustCreateEncounter(t, store, e)
	store.Close()
	if found := storetest.FindPlanted(fileBytes(filepath.Join(data, "huella.db"), filepath.Join(data, "huella.db-wal"))); len(found) == 0 {
		t.Fatal("the legacy store holds no plain text: the test sets up nothing")
	}
	return data, ref
}

func TestUpgradeLegacyDataDirectory(t *testing.T) {
	data, ref := mustLegacyDataDirectory(t)
	ctx := storetest.Context()

	out := MustRun(t, "keys", "reencrypt", "--data", data, "--allow-key-in-data")
	if !strings.Contains(out, "re-encrypted 3 records") {
		t.Errorf("reencrypt = %q, want 3 records (an encounter, 2 templates)", out)
	}
	app, err := OpenApp(ctx, Config{Data: data, Existing: true, AllowKeyInData: true}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	closeApp := sync.OnceValue(app.Close)
	defer closeApp()
	if got, err := app.Blobs.Get(ctx, ref); err != nil || string(got) != "an image from before" {
		t.Fatalf("the image from before: %q, %v", got, err)
	}
	list, err := app.Store.ListEncounters(ctx, huella.EncounterFilter{Name: "qwerty"})
	if err != nil || len(list) != 1 || list[0].CriminalHistory.Offence != storetest.PlantedOffence {
		t.Fatalf("search after the upgrade: %d, %v", len(list), err)
	}
	usage, err := app.Store.KeyUsage(ctx)
	if err != nil || usage[""] != 0 || usage[app.Keys.ActiveKeyID()] != 5 { // biographics, offence, status, 2 templates
		t.Errorf("usage after the upgrade: %v, %v", usage, err)
	}
	closeApp()
	if found := storetest.FindPlanted(fileBytes(filepath.Join(data, "huella.db"), filepath.Join(data, "huella.db-wal"))); len(found) > 0 {
		t.Errorf("after the upgrade, the store holds %v", found)
	}
}

// TestServeSealsLegacyRecords starts the background re-encryption serve
// runs at start on a data directory from before the key hierarchy.
func TestServeSealsLegacyRecords(t *testing.T) {
	data, _ := mustLegacyDataDirectory(t)
	ctx := storetest.Context()
	app, err := OpenApp(ctx, Config{Data: data, Existing: true, AllowKeyInData: true}, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if err := app.StartReencryption(ctx); err != nil {
		t.Fatal(err)
	}
	ks := app.Store
	deadline := time.Now().Add(20 * time.Second)
	for {
		usage, err := ks.KeyUsage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if usage[""] == 0 && usage[app.Keys.ActiveKeyID()] == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve left fields unsealed: %v", usage)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKeysRewrap wraps the keys with a new KEK: the old key file opens
// nothing, the new one opens everything.
func TestKeysRewrap(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	MustRun(t, "site", "add", "--data", data, "--code", "MX-TAP", "--name", "Tapachula", "--country", "MEX", "--tz", "America/Mexico_City")
	newKey := filepath.Join(t.TempDir(), "new.key")
	if err := runErr("keys", "rewrap", "--data", data, "--new-key-file", filepath.Join(data, "k")); err == nil || !strings.Contains(err.Error(), "inside the data directory") {
		t.Fatalf("a new key inside the data directory: %v", err)
	}
	out := MustRun(t, "keys", "rewrap", "--data", data, "--new-key-file", newKey)
	if !strings.Contains(out, "wrapped by kek-") {
		t.Errorf("rewrap = %q", out)
	}
	if err := runErr("site", "list", "--data", data); err == nil || !strings.Contains(err.Error(), "wrong --key-file") {
		t.Errorf("the old key after rewrap: %v, want a clear error", err)
	}
	if out := MustRun(t, "site", "list", "--data", data, "--key-file", newKey); !strings.Contains(out, "MX-TAP") {
		t.Errorf("site list with the new key = %q", out)
	}
	if out := MustRun(t, "audit", "verify", "--data", data, "--key-file", newKey); !strings.Contains(out, "audit chain intact") {
		t.Errorf("audit verify = %q", out)
	}
}
