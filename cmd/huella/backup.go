package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the driver VACUUM INTO runs on

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/audit"
	"github.com/huella-abis/huella/blob"
	"github.com/huella-abis/huella/internal/buildinfo"
	"github.com/huella-abis/huella/keyring"
	"github.com/huella-abis/huella/sqlite"
)

// A backup is a directory:
//
//	manifest.json  what is in it, with checksums and key IDs (never keys)
//	huella.db      the SQLite store, a consistent copy taken online
//	blobs/         the encrypted images and transactions, as they are
//
// The data key and the signing keys are not in it: keep them apart (an
// image backup and its key together would undo the encryption at rest).
// restore needs the data key whose ID the manifest names.

// backupFormat is the version of the backup layout and manifest.
const backupFormat = 1

// Manifest describes a backup: restore checks every field before it
// accepts the backup.
type Manifest struct {
	Format    int       `json:"format"`
	CreatedAt time.Time `json:"created_at"`
	Huella    string    `json:"huella"` // the build that wrote it
	Store     string    `json:"store"`  // "sqlite"
	Database  FileSum   `json:"database"`
	// DataKeyID names the key-encryption key that wraps the data keys
	// the copy carries: for a key file or $HUELLA_KEK a hash of the key,
	// from which the key cannot be recovered; for a KEK in a KMS (KMS
	// set) the KMS key's ID.
	DataKeyID string `json:"data_key_id"`
	// KMS tells that the KEK is in a key manager: restore needs --kms.
	KMS bool `json:"kms,omitempty"`
	// SigningKeyIDs are the IDs of the forwarding signing keys (JWKS kid);
	// the keys themselves stay in DATA/keys/signing.
	SigningKeyIDs []string `json:"signing_key_ids"`
	// AuditEvents and AuditHead are the length and last hash of the audit
	// chain in the copy: restore checks the chain and that nothing was
	// cut from its end.
	AuditEvents int64  `json:"audit_events"`
	AuditHead   string `json:"audit_head"`
	// Blobs maps each blob file (relative to blobs/) to its checksum.
	Blobs map[string]FileSum `json:"blobs"`
}

// FileSum is a file's size and SHA-256.
type FileSum struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// dataKeyID returns the public ID of a data key.
func dataKeyID(key []byte) string {
	h := sha256.Sum256(append([]byte("huella data key id v1\x00"), key...))
	return "dk-" + hex.EncodeToString(h[:8])
}

// runBackup runs "huella backup DEST": a consistent copy of a running or
// stopped SQLite store, its blobs and a manifest.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := newFlagSet("backup", "huella backup [--data DIR] DEST", stderr)
	cfg.registerFlags(fs, false)
	if err := parseFlags(fs, args, 1); err != nil {
		return err
	}
	if cfg.Postgres != "" {
		return errors.New("backup: a PostgreSQL store is backed up with pg_dump and its data directory's blobs/ with a file copy: see README, Deploy, Backups")
	}
	if cfg.Blobs != "" {
		return errors.New("backup: the images are in an object store (--blobs): back them up with its versioning or replication; huella backup copies DATA/blobs")
	}
	dest := fs.Arg(0)
	src := cfg.Data
	kek, kekID, err := readBackupKEK(cfg)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	closeKEK(kek)
	dbPath := filepath.Join(src, "huella.db")
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("backup: no store in %s: %w", src, err)
	}
	if err := makeEmptyDir(dest); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	logger := newLogger(stderr).With("component", "backup")
	m := &Manifest{Format: backupFormat, CreatedAt: time.Now().UTC(), Huella: buildinfo.Read().String(), Store: "sqlite",
		DataKeyID: kekID, KMS: cfg.KMS != "", Blobs: map[string]FileSum{}}

	// 1. The store, online: VACUUM INTO writes the database as one read
	// transaction sees it, so the copy is consistent while enrollments go
	// on (WAL readers do not block the writer).
	fmt.Fprintln(stderr, "backup: copying the store")
	dbCopy := filepath.Join(dest, "huella.db")
	if err := vacuumInto(ctx, dbPath, dbCopy); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	refs, err := inspectCopy(ctx, dbCopy, m)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := checkWrappedBy(ctx, dbCopy, kek); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if m.Database, err = sumFile(dbCopy); err != nil {
		return fmt.Errorf("backup: %w", err)
	}

	// 2. The blobs. Every blob the copy names was written before its
	// record, so it is here, unless a purge deleted it since the copy.
	files, err := listBlobFiles(filepath.Join(src, "blobs"))
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	p := newProgress(stderr, "backup: blobs", len(files))
	for _, rel := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		sum, err := copyFile(filepath.Join(src, "blobs", rel), filepath.Join(dest, "blobs", rel))
		if errors.Is(err, iofs.ErrNotExist) {
			p.Add(1) // purged or swept since the listing
			continue
		}
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		m.Blobs[filepath.ToSlash(rel)] = sum
		p.Add(1)
	}
	p.Done()
	for ref := range refs {
		if _, ok := m.Blobs[blobRel(ref)]; !ok {
			return fmt.Errorf("backup: blob %s named by the store is missing (purged during the backup?): run the backup again", ref)
		}
	}

	// 3. Key IDs, never keys.
	if entries, err := os.ReadDir(filepath.Join(src, "keys", "signing")); err == nil {
		for _, e := range entries {
			if id, ok := strings.CutSuffix(e.Name(), ".key"); ok {
				m.SigningKeyIDs = append(m.SigningKeyIDs, id)
			}
		}
	}
	if err := writeManifest(dest, m); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	logger.Info("backup written", "blobs", len(m.Blobs), "audit_events", m.AuditEvents)
	fmt.Fprintf(stdout, "backup %s: store %d bytes, %d blobs, %d audit events; data key %s (not copied: keep it apart)\n",
		dest, m.Database.Size, len(m.Blobs), m.AuditEvents, m.DataKeyID)
	return nil
}

// runRestore runs "huella restore SRC": it checks the backup (checksums,
// data key ID, audit chain, every image decrypts) and only then puts it in
// place in an empty data directory.
func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := newFlagSet("restore", "huella restore [--data DIR] [--key-file F] SRC", stderr)
	cfg.registerFlags(fs, false)
	if err := parseFlags(fs, args, 1); err != nil {
		return err
	}
	if cfg.Postgres != "" {
		return errors.New("restore: the PostgreSQL store is restored with pg_restore: see README, Deploy, Backups")
	}
	if cfg.Blobs != "" {
		return errors.New("restore: huella restore puts the images in DATA/blobs; restore an object store (--blobs) with its own tools")
	}
	src, data := fs.Arg(0), cfg.Data
	m, err := readManifest(src)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	keyFile := cfg.keyFile()
	if m.KMS && cfg.KMS == "" {
		return fmt.Errorf("restore: the backup's keys are wrapped by %s in a key manager: give --kms (backups never hold keys)", m.DataKeyID)
	}
	kek, kekID, err := readBackupKEK(cfg)
	if err != nil {
		if cfg.KMS != "" {
			return fmt.Errorf("restore: the backup needs key %s in the key manager (backups never hold keys): %w", m.DataKeyID, err)
		}
		return fmt.Errorf("restore: the backup needs data key %s at %s or in $HUELLA_KEK (backups never hold keys): %w", m.DataKeyID, keyFile, err)
	}
	defer closeKEK(kek)
	if kekID != m.DataKeyID {
		where := keyFile
		if cfg.KMS != "" {
			where = "--kms"
		}
		return fmt.Errorf("restore: %s is key %s; the backup was encrypted with %s", where, kekID, m.DataKeyID)
	}
	for _, name := range []string{"huella.db", "blobs"} {
		if _, err := os.Stat(filepath.Join(data, name)); err == nil {
			return fmt.Errorf("restore: %s already has %s: restore into an empty data directory", data, name)
		}
	}

	// Check everything before anything is put in place.
	if err := checkSum(filepath.Join(src, "huella.db"), m.Database); err != nil {
		return fmt.Errorf("restore: store: %w", err)
	}
	staging := filepath.Join(data, ".restore")
	if err := os.RemoveAll(staging); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(staging, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(staging)
	if _, err := copyFile(filepath.Join(src, "huella.db"), filepath.Join(staging, "huella.db")); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// The blob key is in the store, wrapped by the KEK.
	store, err := sqlite.Open(filepath.Join(staging, "huella.db"))
	if err != nil {
		return fmt.Errorf("restore: open the copy: %w", err)
	}
	ring, err := openKeyring(ctx, Config{Data: staging}, kek, true, store)
	if err != nil {
		store.Close()
		return fmt.Errorf("restore: %w", err)
	}
	blobs, err := blob.NewFileStore(filepath.Join(staging, "blobs"), ring.BlobKey())
	if err == nil {
		err = blobs.SetKeys(blobKeys(ring.BlobKeys())) // a rotation may have been under way
	}
	if err != nil {
		store.Close()
		return fmt.Errorf("restore: %w", err)
	}
	names := make([]string, 0, len(m.Blobs))
	for rel := range m.Blobs {
		names = append(names, rel)
	}
	slices.Sort(names)
	p := newProgress(stderr, "restore: blobs checked and copied", len(names))
	for _, rel := range names {
		if err := ctx.Err(); err != nil {
			store.Close()
			return err
		}
		if err := checkSum(filepath.Join(src, "blobs", rel), m.Blobs[rel]); err != nil {
			store.Close()
			return fmt.Errorf("restore: blob %s: %w", rel, err)
		}
		if _, err := copyFile(filepath.Join(src, "blobs", rel), filepath.Join(staging, "blobs", rel)); err != nil {
			store.Close()
			return fmt.Errorf("restore: %w", err)
		}
		if _, err := blobs.Get(ctx, filepath.Base(rel)); err != nil {
			store.Close()
			return fmt.Errorf("restore: %w", err)
		}
		p.Add(1)
	}
	p.Done()
	r, err := audit.Verify(ctx, store)
	if err == nil && r.Break != nil {
		err = fmt.Errorf("audit chain broken at %s", r.Break)
	}
	if err == nil {
		err = checkAuditHead(ctx, store, m)
	}
	if err == nil {
		err = store.ForEachBlobRef(ctx, func(ref string) error {
			if _, ok := m.Blobs[blobRel(ref)]; !ok {
				return fmt.Errorf("blob %s named by the store is not in the backup", ref)
			}
			return nil
		})
	}
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// Into place: the blobs, then the store, so that a crash between the
	// two leaves no store naming missing images.
	if err := os.Rename(filepath.Join(staging, "blobs"), filepath.Join(data, "blobs")); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		from := filepath.Join(staging, "huella.db"+suffix)
		if _, err := os.Stat(from); err != nil {
			continue
		}
		if err := os.Rename(from, filepath.Join(data, "huella.db"+suffix)); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	if err := syncDir(data); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s into %s: %d blobs decrypt, audit chain intact (%d events)\n", src, data, len(m.Blobs), r.Events)
	if len(m.SigningKeyIDs) > 0 {
		if _, err := os.Stat(filepath.Join(data, "keys", "signing")); err != nil {
			fmt.Fprintf(stdout, "note: put the signing keys %s in %s, or partners must be given the new keys (huella partner keys)\n",
				strings.Join(m.SigningKeyIDs, ", "), filepath.Join(data, "keys", "signing"))
		}
	}
	return nil
}

// readBackupKEK opens the existing key-encryption key, never making one:
// the key file's or $HUELLA_KEK's (named by dataKeyID), or the one --kms
// names in its key manager (named by its ID). The caller closes it
// (closeKEK).
func readBackupKEK(cfg Config) (keyring.KEK, string, error) {
	if cfg.KMS != "" {
		cfg.Existing = true
		kek, _, err := cfg.loadKMS()
		if err != nil {
			return nil, "", err
		}
		return kek, kek.ID(), nil
	}
	key, err := readKEK(cfg)
	if err != nil {
		return nil, "", err
	}
	kek, err := keyring.NewLocalKEK(key)
	if err != nil {
		return nil, "", err
	}
	return kek, dataKeyID(key), nil
}

// closeKEK ends the KEK's session with its key manager, if it holds one.
func closeKEK(kek keyring.KEK) {
	if c, ok := kek.(io.Closer); ok {
		c.Close()
	}
}

// checkWrappedBy checks that the KEK wrapped the live keys the store copy
// at path carries (it writes nothing), so that the manifest never names a
// key that could not restore the backup.
func checkWrappedBy(ctx context.Context, path string, kek keyring.KEK) error {
	store, err := sqlite.Open(path)
	if err != nil {
		return fmt.Errorf("open the copy: %w", err)
	}
	defer store.Close()
	keys, err := store.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("the copy's keys: %w", err)
	}
	for _, k := range keys {
		if k.RetiredAt.IsZero() && k.KEKID != kek.ID() {
			return fmt.Errorf("key %s of the store was wrapped by %s, and the key given is %s (wrong --key-file, $HUELLA_KEK or --kms?)", k.ID, k.KEKID, kek.ID())
		}
	}
	return nil
}

// readKEK reads the existing key-encryption key ($HUELLA_KEK or the key
// file) and returns its bytes; it never makes one.
func readKEK(cfg Config) ([]byte, error) {
	if text := os.Getenv("HUELLA_KEK"); text != "" {
		k, err := keyring.ParseKEK(text)
		if err != nil {
			return nil, err
		}
		return k.Raw(), nil
	}
	k, err := keyring.LoadKEKFile(cfg.keyFile())
	if err != nil {
		return nil, err
	}
	return k.Raw(), nil
}

// makeEmptyDir creates dir (0700) or accepts it if it exists and is empty.
func makeEmptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty", dir)
	}
	return os.MkdirAll(dir, 0o700)
}

// vacuumInto writes a consistent copy of the database at src to dst.
func vacuumInto(ctx context.Context, src, dst string) error {
	db, err := sql.Open("sqlite", "file:"+src+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("vacuum into: %w", err)
	}
	f, err := os.Open(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// inspectCopy opens the copy, checks its audit chain and records its head
// in m, and returns the blob references its records hold.
func inspectCopy(ctx context.Context, path string, m *Manifest) (map[string]bool, error) {
	store, err := sqlite.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the copy: %w", err)
	}
	defer store.Close()
	r, err := audit.Verify(ctx, store)
	if err != nil {
		return nil, err
	}
	if r.Break != nil {
		return nil, fmt.Errorf("the store's audit chain is broken at %s: not backed up", r.Break)
	}
	m.AuditEvents = r.Events
	if m.AuditHead, err = auditHead(ctx, store, r.Events); err != nil {
		return nil, err
	}
	refs := map[string]bool{}
	err = store.ForEachBlobRef(ctx, func(ref string) error { refs[ref] = true; return nil })
	return refs, err
}

// auditHead returns the hash of the last of n audit events, hex.
func auditHead(ctx context.Context, store huella.Store, n int64) (string, error) {
	if n == 0 {
		return "", nil
	}
	events, err := store.ListAuditEvents(ctx, n-1, 1)
	if err != nil {
		return "", err
	}
	if len(events) != 1 {
		return "", fmt.Errorf("audit event %d not found", n)
	}
	return hex.EncodeToString(events[0].Hash), nil
}

// checkAuditHead checks that the restored chain ends where the backup's
// did: Verify cannot see events cut from the end.
func checkAuditHead(ctx context.Context, store huella.Store, m *Manifest) error {
	r, err := audit.Verify(ctx, store)
	if err != nil {
		return err
	}
	head, err := auditHead(ctx, store, r.Events)
	if err != nil {
		return err
	}
	if r.Events != m.AuditEvents || head != m.AuditHead {
		return fmt.Errorf("audit chain has %d events ending %.16s, the manifest %d ending %.16s", r.Events, head, m.AuditEvents, m.AuditHead)
	}
	return nil
}

// listBlobFiles returns the blob files under dir, relative, skipping the
// temporary files of writes in progress.
func listBlobFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d iofs.DirEntry, err error) error {
		if errors.Is(err, iofs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		files = append(files, rel)
		return err
	})
	return files, err
}

// validBlobRel reports whether rel is "ab/cd/abcd…" (64 hex digits).
func validBlobRel(rel string) bool {
	parts := strings.Split(rel, "/")
	if len(parts) != 3 || len(parts[2]) != 64 || blobRel(parts[2]) != rel {
		return false
	}
	_, err := hex.DecodeString(parts[2])
	return err == nil
}

// blobRel is where the blob of a reference lies under blobs/.
func blobRel(ref string) string {
	if len(ref) < 4 {
		return ref
	}
	return ref[:2] + "/" + ref[2:4] + "/" + ref
}

// copyFile copies src to dst (0600, parents 0700), synced, and returns the
// checksum of what it copied.
func copyFile(src, dst string) (FileSum, error) {
	in, err := os.Open(src)
	if err != nil {
		return FileSum{}, err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return FileSum{}, err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return FileSum{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return FileSum{}, fmt.Errorf("copy %s: %w", src, err)
	}
	return FileSum{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// sumFile returns a file's size and checksum.
func sumFile(path string) (FileSum, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileSum{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return FileSum{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, err
}

// checkSum checks a file against its manifest entry.
func checkSum(path string, want FileSum) error {
	got, err := sumFile(path)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s: checksum or size differs from the manifest (corrupt or altered)", filepath.Base(path))
	}
	return nil
}

func writeManifest(dir string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	return syncDir(dir)
}

func readManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("not a backup: %w", err)
	}
	return decodeManifest(data)
}

// decodeManifest parses and checks a manifest: a backup from another
// format or store, or one missing what restore checks, is an error.
func decodeManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if m.Format != backupFormat || m.Store != "sqlite" {
		return nil, fmt.Errorf("manifest: format %d of a %q store, want format %d of sqlite", m.Format, m.Store, backupFormat)
	}
	if m.DataKeyID == "" || m.Database.SHA256 == "" {
		return nil, errors.New("manifest: incomplete")
	}
	for rel := range m.Blobs {
		// Paths come from a file an attacker may have written: each must
		// be a blob's place under blobs/, nothing else.
		if !validBlobRel(rel) {
			return nil, fmt.Errorf("manifest: %q is not a blob path", rel)
		}
	}
	return &m, nil
}

// syncDir makes a directory's entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
