// Package postgres is the huella.Database for installations that outgrow one
// machine: PostgreSQL through a pgx connection pool. It passes the same
// contract suite (storetest) as the default SQLite store. Migrations run on
// Open under an advisory lock, and the audit chain's head row is locked for
// each append, so several huella processes may share one database.
package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock key held while migrating, so that
// processes starting together migrate one at a time.
const migrationLock = 0x6875656c6c61 // "huella"

// defaultMaxConns is the pool size when the DSN names none (pool_max_conns).
const defaultMaxConns = 10

// Store is a huella.Database in a PostgreSQL database.
type Store struct {
	// Store is the SQL both stores share; its Now and Keys are this
	// store's.
	sqlstore.Store

	pool *pgxpool.Pool
}

var _ huella.Database = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or
// key=value string; pgx's pool_* parameters apply; other unknown
// parameters such as search_path are sent as run-time parameters) and
// brings its schema up to date.
func Open(ctx context.Context, dsn string) (*Store, error) {
	config, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		config.MaxConns = defaultMaxConns
	}
	// pgx prepares and caches statements; after five runs PostgreSQL may
	// switch to a generic plan that cannot see the filter's values and, for
	// a site and a month, reads and sorts every encounter in range instead
	// of the first page. Planning each run costs well under a millisecond.
	if _, ok := config.ConnConfig.RuntimeParams["plan_cache_mode"]; !ok {
		config.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	pool, err := pgxpool.NewWithConfig(ctx, config)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s := &Store{pool: pool}
	s.Store = sqlstore.New(db{s}, dialect{})
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	// The connection that migrated cached statements prepared against the
	// old schema (migration 12 changes column types): start afresh.
	pool.Reset()
	return s, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes every connection of the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// SchemaVersion returns the number of the last migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return v, nil
}

// migrate applies the embedded migrations newer than the schema version in
// one transaction, holding an advisory lock so that processes starting at
// the same time take turns. It reads one row; nothing at start-up grows
// with the number of records.
func (s *Store) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL
		)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&current); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		seen := make(map[int]string)
		for _, name := range names {
			base := path.Base(name)
			version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
			if err != nil {
				return fmt.Errorf("migrate: %s: name must start with a number", base)
			}
			if other, ok := seen[version]; ok {
				return fmt.Errorf("migrate: %s and %s share version %d: renumber one", other, base, version)
			}
			seen[version] = base
			if version <= current {
				continue
			}
			script, err := migrations.ReadFile(name)
			if err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			// Exec without arguments uses the simple protocol, which runs
			// every statement of the script.
			if _, err := tx.Exec(ctx, string(script)); err != nil {
				return fmt.Errorf("migrate: %s: %w", base, err)
			}
			if fill := backfills[version]; fill != nil {
				if err := fill(ctx, tx); err != nil {
					return fmt.Errorf("migrate: %s: %w", base, err)
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)`, version, s.now()); err != nil {
				return fmt.Errorf("migrate: %s: %w", base, err)
			}
		}
		return nil
	})
}

// backfills are the Go steps of migrations, run after the migration's script
// in its transaction: they fill new tables from existing rows.
var backfills = map[int]func(context.Context, pgx.Tx) error{
	6: backfillNameSearch,
}

// backfillNameSearch indexes the names and documents of every encounter.
func backfillNameSearch(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT id, biographics FROM encounters`)
	if err != nil {
		return err
	}
	var batch pgx.Batch
	var id string
	var biographics []byte
	if _, err := pgx.ForEachRow(rows, []any{&id, &biographics}, func() error {
		var b huella.Biographics
		if err := json.Unmarshal(biographics, &b); err != nil {
			return fmt.Errorf("encounter %s biographics: %w", id, err)
		}
		queueIndex(&batch, huella.Plaintext, id, &b)
		return nil
	}); err != nil {
		return err
	}
	if batch.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, &batch).Close()
}

// now returns the store's current time at stored precision, in UTC.
func (s *Store) now() time.Time { return stored(s.Now()) }

// stored returns t as stores keep it: UTC, microsecond precision.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// isUniqueViolation reports whether err is a unique constraint failure.
func isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

// inTx runs fn in a transaction and commits when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// inReadTx runs fn in a read-only repeatable-read transaction, so that its
// queries see one snapshot of the database.
func (s *Store) inReadTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	return fn(tx)
}
