// Package sqlstore is the SQL both stores share, written once: sites and
// users, the audit chain, encounters and their search index,
// identifications, hits, watchlists and merges, partners, agreements and
// deliveries, purge and retention. The packages sqlite and postgres open
// the database, migrate it, tune its connections and rotate keys, and
// implement DB (how a query runs) and Dialect (how their SQL differs);
// both embed Store, so its methods are theirs.
//
// Queries here write their placeholders as ?: a PostgreSQL DB rewrites them
// to $1, $2, … before running them.
package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/huella-abis/huella"
)

// Store is the shared body of a huella.Database. The sqlite and postgres
// stores embed it, so its methods are theirs.
type Store struct {
	// Now returns the current time; it stamps CreatedAt and audit events
	// and is the "now" capture times are validated against. Tests replace
	// it; Open sets it to time.Now.
	Now func() time.Time
	// Keys seals the personal fields (biographics, criminal history
	// offences, templates) and makes the search tokens. The application
	// sets it right after Open, before any other call (the keys live in
	// the store: keyring.Open needs it open); without it, fields are
	// stored as they are, which only tests of other packages do.
	Keys huella.FieldCipher

	// siteOutbox is set on a site node (KeepSiteOutbox): encounters enter
	// site_outbox as they are created and carry their Central state.
	siteOutbox bool

	db DB
	d  Dialect
}

// New returns the shared body over db in dialect d, with Now set to
// time.Now.
func New(db DB, d Dialect) Store { return Store{Now: time.Now, db: db, d: d} }

// SealWith makes the store seal with c (huella.Database).
func (s *Store) SealWith(c huella.FieldCipher) { s.Keys = c }

// DB is a database the shared queries run on.
type DB interface {
	// Read runs single queries on the readers' pool.
	Read() Querier
	// Write runs single statements outside a transaction, each its own.
	Write() Querier
	// InWriteTx runs fn in a write transaction and commits when fn
	// returns nil.
	InWriteTx(ctx context.Context, fn func(tx Tx) error) error
	// Sealing returns the cipher to seal with in the write transaction
	// tx, sure to be the active data key (another process may have
	// rotated).
	Sealing(ctx context.Context, tx Tx) (huella.FieldCipher, error)
	// InReadTx runs fn in a read transaction: its queries see one
	// snapshot.
	InReadTx(ctx context.Context, fn func(tx Tx) error) error
}

// Querier runs queries. A query's placeholders are ?. A Row's Scan of no
// row returns an error errors.Is sql.ErrNoRows.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Tx is a transaction: a Querier that can also send several statements at
// once.
type Tx interface {
	Querier
	// ExecBatch runs the statements in order (PostgreSQL: in one round
	// trip) and stops at the first error.
	ExecBatch(ctx context.Context, batch []Statement) error
}

// Statement is one statement of a batch.
type Statement struct {
	Query string
	Args  []any
	// Scan, when set, makes the statement a query of one row, scanned
	// into these destinations.
	Scan []any
}

// Rows is the result of a query, read as database/sql's.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is the result of a query for one row.
type Row interface {
	Scan(dest ...any) error
}

// Dialect is how one database spells what the SQL standard leaves open: how
// it stores times and lists, how it locks a row, matches a list of IDs or
// reads a JSON field, how it orders text and reports a duplicate key, and
// how an append to the audit chain finds its head. Each method is one
// expression or value; the queries around them are shared.
type Dialect interface {
	// Name prefixes the errors ("sqlite", "postgres").
	Name() string
	// Time is the argument that stores t, at the precision the store keeps.
	Time(t time.Time) any
	// NoTime is the argument a time column stores for "never" where the
	// schema gives one (SQLite: 0; PostgreSQL: NULL).
	NoTime() any
	// ScanTime is the scan destination of a time column into t, in UTC;
	// with optional, NULL and NoTime scan as the zero time.
	ScanTime(t *time.Time, optional bool) any
	// Strings is the argument that stores a list of strings (SQLite: JSON
	// text; PostgreSQL: text[]).
	Strings(list []string) any
	// ScanStrings is the scan destination of a list column into list.
	ScanStrings(list *[]string) any
	// Lock is the clause that ends a SELECT locking the rows it reads
	// until the transaction ends, in the strength named ("UPDATE",
	// "UPDATE SKIP LOCKED", "SHARE", "KEY SHARE"); "" where one writer
	// holds the whole database.
	Lock(strength string) string
	// Never is the condition that a time column holding NoTime does.
	Never(column string) string
	// ListHas returns the condition that a list column holds value, and
	// its argument.
	ListHas(column, value string) (condition string, arg any)
	// In returns the condition that expr is one of the values, and its
	// arguments (SQLite: an IN list; PostgreSQL: = ANY of one array).
	In(expr string, values []string) (condition string, args []any)
	// JSONText is the expression of the text of a JSON column's field.
	JSONText(column, field string) string
	// Day is the expression of the whole number of UTC days since the
	// epoch of a time column, as encounter_counts keeps them.
	Day(column string) string
	// CommonNameWords is how many index entries every word of a name query
	// must have for the name to count as common, when the search then scans
	// the encounters in order rather than sorting every match (0: never,
	// the planner chooses).
	CommonNameWords() int
	// ByteOrder is the collation clause that orders text by bytes.
	ByteOrder() string
	// IsUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY
	// constraint failure.
	IsUniqueViolation(err error) bool
	// LockAuditHead reads the audit chain's last Seq and Hash (zero for an
	// empty chain), so that no other append may fork the chain until the
	// transaction ends.
	LockAuditHead(ctx context.Context, tx Tx) (seq int64, hash []byte, err error)
	// MoveAuditHead returns the statements that move the chain's head to
	// e, run with e's insert (none where the head is the last row).
	MoveAuditHead(e *huella.AuditEvent) []Statement
}

// fields returns the cipher of the store's personal fields.
func (s *Store) fields() huella.FieldCipher {
	if s.Keys == nil {
		return huella.Plaintext
	}
	return s.Keys
}

// now returns the store's current time at stored precision, in UTC.
func (s *Store) now() time.Time { return stored(s.Now()) }

// stored returns t as stores keep it: UTC, microsecond precision.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// errorf wraps err with the dialect's name and what failed.
func (s *Store) errorf(what string, err error) error {
	return fmt.Errorf("%s: %s: %w", s.d.Name(), what, err)
}

// NonNil returns s, or an empty slice for nil, so that NOT NULL list
// columns hold an empty list rather than NULL.
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// nilIfEmpty returns nil for an empty slice, as the domain types leave
// absent groups.
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
