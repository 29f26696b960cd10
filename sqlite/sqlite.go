// Package sqlite is the default huella.Database: one SQLite database file,
// in pure Go (modernc.org/sqlite), in WAL mode with synchronous=FULL so that
// an acknowledged write survives a crash or a kill -9. Writes go through one
// connection, one transaction at a time; reads share a pool of read-only
// connections and never wait for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/sqlstore"
	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// busyTimeout is how long a connection waits for a lock held by another
// process (a second huella command on the same file) before failing.
const busyTimeout = 10 * time.Second

// Store is a huella.Database in one SQLite file.
type Store struct {
	// Store is the SQL both stores share; its Now and Keys are this
	// store's.
	sqlstore.Store

	path  string
	write *sql.DB // exactly one connection: SQLite has one writer at a time
	read  *sql.DB // read-only connections
}

var _ huella.Database = (*Store)(nil)

// Open opens the database at path, creating it (and its directory) if
// needed, and brings its schema up to date.
func Open(path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: open %q: the path must be non-empty and hold no ? or #", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	// The file holds personal data: only its owner may read it. SQLite
	// gives its -wal and -shm files the mode of the database file.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeout.Milliseconds())
	s := newStore(path)
	// The writer sets WAL (persistent in the file) before any reader opens.
	// secure_delete zeroes what a write frees, so that a field re-sealed
	// (or once stored in the clear) leaves no copy in free pages.
	s.write, err = sql.Open("sqlite", path+"?"+common+"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=secure_delete(1)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxIdleTime(0)
	s.write.SetConnMaxLifetime(0)
	if err := s.migrateRetrying(context.Background()); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.read, err = sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		s.write.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	s.read.SetMaxOpenConns(readers)
	s.read.SetMaxIdleConns(readers)
	return s, nil
}

// newStore returns a store of the file at path, not open yet.
func newStore(path string) *Store {
	s := &Store{path: path}
	s.Store = sqlstore.New(db{s}, dialect{})
	return s
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Ping reports whether both the writer and a reader answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping writer: %w", err)
	}
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping reader: %w", err)
	}
	return nil
}

// Close closes every connection. The last one to close checkpoints the WAL
// into the database file.
func (s *Store) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}

// SchemaVersion returns the number of the last migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.read.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return v, nil
}

// migrate applies the embedded migrations newer than the schema version, in
// one immediate transaction: a second process starting at the same time
// waits for it, then finds nothing to do. It reads one row; nothing at
// start-up grows with the number of records.
func (s *Store) migrate(ctx context.Context) error { return s.migrateTo(ctx, math.MaxInt) }

// migrateRetrying is migrate for a file that other processes may be opening
// at the same time. While a new file is still in rollback-journal mode, two
// connections turning it to WAL can each hold the lock the other waits for;
// SQLite then answers one of them SQLITE_BUSY at once, without waiting the
// busy timeout, and the remedy it documents is to try again. Open does so
// until busyTimeout has passed.
func (s *Store) migrateRetrying(ctx context.Context) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		err := s.migrate(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (any extended code).
func isBusy(err error) bool {
	var e *sqlitedriver.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// migrateTo is migrate stopping after migration last (tests build older
// schemas with it).
func (s *Store) migrateTo(ctx context.Context, last int) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	seen := make(map[int]string)
	for _, name := range names {
		base := filepath.Base(name)
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: %s: name must start with a number", base)
		}
		if other, ok := seen[version]; ok {
			return fmt.Errorf("migrate: %s and %s share version %d: renumber one", other, base, version)
		}
		seen[version] = base
		if version <= current || version > last {
			continue
		}
		script, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(script)); err != nil {
			return fmt.Errorf("migrate: %s: %w", base, err)
		}
		if fill := backfills[version]; fill != nil {
			if err := fill(ctx, tx); err != nil {
				return fmt.Errorf("migrate: %s: %w", base, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, applied_at) VALUES (?, ?)`,
			version, micros(s.Now())); err != nil {
			return fmt.Errorf("migrate: %s: %w", base, err)
		}
	}
	return tx.Commit()
}

// backfills are the Go steps of migrations, run after the migration's script
// in its transaction: they fill new tables from existing rows.
var backfills = map[int]func(context.Context, *sql.Tx) error{
	6: backfillNameSearch,
}

// backfillNameSearch indexes the names and documents of every encounter.
func backfillNameSearch(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, biographics FROM encounters`)
	if err != nil {
		return err
	}
	type encounter struct {
		id string
		b  huella.Biographics
	}
	var list []encounter
	for rows.Next() {
		var e encounter
		var biographics string
		if err := rows.Scan(&e.id, &biographics); err != nil {
			rows.Close()
			return err
		}
		if err := json.Unmarshal([]byte(biographics), &e.b); err != nil {
			rows.Close()
			return fmt.Errorf("encounter %s biographics: %w", e.id, err)
		}
		list = append(list, e)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, e := range list {
		if err := indexEncounter(ctx, tx, huella.Plaintext, e.id, &e.b); err != nil {
			return err
		}
	}
	return nil
}

// now returns the store's current time at stored precision, in UTC.
func (s *Store) now() time.Time { return stored(s.Now()) }

// stored returns t as stores keep it: UTC, microsecond precision.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// micros returns t as the INTEGER the schema stores.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros returns the stored INTEGER as a time in UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY
// constraint failure.
func isUniqueViolation(err error) bool {
	var e *sqlitedriver.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// inWriteTx runs fn in an immediate transaction on the writer connection
// and commits when fn returns nil.
func (s *Store) inWriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// inReadTx runs fn in a read transaction, so that its queries see one
// snapshot of the database.
func (s *Store) inReadTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
