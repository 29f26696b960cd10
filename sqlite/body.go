package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/sqlstore"
)

// db runs the shared queries (sqlstore.DB): reads on the readers' pool,
// writes on the one writer connection.
type db struct{ s *Store }

func (d db) Read() sqlstore.Querier  { return conn{d.s.read} }
func (d db) Write() sqlstore.Querier { return conn{d.s.write} }

func (d db) InWriteTx(ctx context.Context, fn func(tx sqlstore.Tx) error) error {
	return d.s.inWriteTx(ctx, func(tx *sql.Tx) error { return fn(wrap(tx)) })
}

func (d db) Sealing(ctx context.Context, tx sqlstore.Tx) (huella.FieldCipher, error) {
	return d.s.sealing(ctx, tx.(conn).c.(*sql.Tx))
}

func (d db) InReadTx(ctx context.Context, fn func(tx sqlstore.Tx) error) error {
	return d.s.inReadTx(ctx, func(tx *sql.Tx) error { return fn(wrap(tx)) })
}

// sqlConn is what database/sql's DB and Tx share.
type sqlConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn is a database/sql DB or Tx as a sqlstore.Tx.
type conn struct{ c sqlConn }

// wrap returns tx as a sqlstore.Tx.
func wrap(tx *sql.Tx) sqlstore.Tx { return conn{tx} }

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.c.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := c.c.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.c.QueryRowContext(ctx, query, args...)
}

// ExecBatch runs the statements one after the other: SQLite is in process,
// a round trip costs nothing.
func (c conn) ExecBatch(ctx context.Context, batch []sqlstore.Statement) error {
	for _, st := range batch {
		var err error
		if st.Scan != nil {
			err = c.c.QueryRowContext(ctx, st.Query, st.Args...).Scan(st.Scan...)
		} else {
			_, err = c.c.ExecContext(ctx, st.Query, st.Args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// dialect is SQLite's sqlstore.Dialect: times are INTEGER microseconds since
// the Unix epoch (0: never), lists JSON text, and one writer holds the
// database, so rows need no lock.
type dialect struct{}

var _ sqlstore.Dialect = dialect{}

func (dialect) Name() string                     { return "sqlite" }
func (dialect) Time(t time.Time) any             { return micros(t) }
func (dialect) NoTime() any                      { return int64(0) }
func (dialect) Lock(string) string               { return "" }
func (dialect) Never(column string) string       { return column + ` = 0` }
func (dialect) ByteOrder() string                { return "" }
func (dialect) IsUniqueViolation(err error) bool { return isUniqueViolation(err) }

func (dialect) ScanTime(t *time.Time, optional bool) any { return &microsDest{t, optional} }

func (dialect) Strings(list []string) any {
	b, _ := json.Marshal(sqlstore.NonNil(list)) // a []string always marshals
	return string(b)
}

func (dialect) ScanStrings(list *[]string) any { return &jsonDest{list} }

func (dialect) In(expr string, values []string) (string, []any) {
	return expr + ` IN (` + placeholders(len(values)) + `)`, sqlstore.Anys(values)
}

func (dialect) JSONText(column, field string) string {
	return `json_extract(` + column + `, '$.` + field + `')`
}

// Day divides the stored microseconds.
func (dialect) Day(column string) string { return column + ` / 86400000000` }

// CommonNameWords: below it, the matches are read and sorted (about 4 µs
// each); above it, the encounters are scanned newest first until a page is
// found, which costs about as much per encounter scanned and is quicker as
// soon as matches are frequent. SQLite's planner cannot tell the two apart.
func (dialect) CommonNameWords() int { return 20_000 }

// ListHas matches the value's JSON string in the list's text.
func (dialect) ListHas(column, value string) (string, any) {
	b, _ := json.Marshal(value) // a string always marshals
	return column + ` LIKE ?`, `%` + string(b) + `%`
}

// LockAuditHead reads the last event: the writer connection serialises
// every append, so the chain cannot fork.
func (dialect) LockAuditHead(ctx context.Context, tx sqlstore.Tx) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	return seq, hash, err
}

func (dialect) MoveAuditHead(*huella.AuditEvent) []sqlstore.Statement { return nil }

// microsDest scans INTEGER microseconds into a time in UTC.
type microsDest struct {
	t        *time.Time
	optional bool
}

func (d *microsDest) Scan(v any) error {
	switch v := v.(type) {
	case int64:
		if d.optional && v == 0 {
			*d.t = time.Time{}
		} else {
			*d.t = fromMicros(v)
		}
	case nil:
		if !d.optional {
			return errors.New("NULL time")
		}
		*d.t = time.Time{}
	default:
		return fmt.Errorf("time stored as %T", v)
	}
	return nil
}

// jsonDest scans JSON text into a list of strings.
type jsonDest struct{ list *[]string }

func (d *jsonDest) Scan(v any) error {
	switch v := v.(type) {
	case string:
		return json.Unmarshal([]byte(v), d.list)
	case []byte:
		return json.Unmarshal(v, d.list)
	}
	return fmt.Errorf("list stored as %T", v)
}

// appendAudit is sqlstore.AppendAudit on a transaction of this store.
func appendAudit(ctx context.Context, tx *sql.Tx, e *huella.AuditEvent, now time.Time) error {
	return sqlstore.AppendAudit(ctx, dialect{}, wrap(tx), e, now)
}

// indexEncounter inserts the encounter's search terms in tx
// (sqlstore.IndexStatements).
func indexEncounter(ctx context.Context, tx *sql.Tx, c huella.FieldCipher, id string, b *huella.Biographics) error {
	if err := wrap(tx).ExecBatch(ctx, sqlstore.IndexStatements(c, id, b)); err != nil {
		return fmt.Errorf("sqlite: index encounter: %w", err)
	}
	return nil
}
