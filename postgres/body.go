package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// db runs the shared queries (sqlstore.DB) on the pool.
type db struct{ s *Store }

func (d db) Read() sqlstore.Querier  { return conn{d.s.pool} }
func (d db) Write() sqlstore.Querier { return conn{d.s.pool} }

func (d db) InWriteTx(ctx context.Context, fn func(tx sqlstore.Tx) error) error {
	return d.s.inTx(ctx, func(tx pgx.Tx) error { return fn(conn{tx}) })
}

func (d db) Sealing(ctx context.Context, tx sqlstore.Tx) (huella.FieldCipher, error) {
	return d.s.sealing(ctx, tx.(conn).c.(pgx.Tx))
}

func (d db) InReadTx(ctx context.Context, fn func(tx sqlstore.Tx) error) error {
	return d.s.inReadTx(ctx, func(tx pgx.Tx) error { return fn(conn{tx}) })
}

// pgConn is what a pgx pool and transaction share.
type pgConn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// conn is a pool or a transaction as a sqlstore.Tx: it numbers the
// placeholders of each query.
type conn struct{ c pgConn }

// wrap returns tx as a sqlstore.Tx.
func wrap(tx pgx.Tx) sqlstore.Tx { return conn{tx} }

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.c.Exec(ctx, rebind(query), args...)
	return tag.RowsAffected(), err
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return c.c.Query(ctx, rebind(query), args...)
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.c.QueryRow(ctx, rebind(query), args...)
}

// ExecBatch sends the statements in one round trip.
func (c conn) ExecBatch(ctx context.Context, batch []sqlstore.Statement) error {
	if len(batch) == 1 && batch[0].Scan == nil {
		_, err := c.c.Exec(ctx, rebind(batch[0].Query), batch[0].Args...)
		return err
	}
	b := &pgx.Batch{}
	for _, st := range batch {
		b.Queue(rebind(st.Query), st.Args...)
	}
	results := c.c.SendBatch(ctx, b)
	for _, st := range batch {
		var err error
		if st.Scan != nil {
			err = results.QueryRow().Scan(st.Scan...)
		} else {
			_, err = results.Exec()
		}
		if err != nil {
			results.Close()
			return err
		}
	}
	return results.Close()
}

// rebound caches rebind's answers: the shared queries are a few hundred
// strings, built the same way each time.
var (
	rebound     sync.Map // query → numbered query
	reboundSize atomic.Int64
)

// maxRebound bounds the cache, should queries ever be built from data.
const maxRebound = 4096

// rebind numbers the ? placeholders of query as $1, $2, … (the shared
// queries hold no ? in a literal or a name).
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	q := number(query)
	if reboundSize.Load() < maxRebound {
		if _, loaded := rebound.LoadOrStore(query, q); !loaded {
			reboundSize.Add(1)
		}
	}
	return q
}

// number is rebind without the cache.
func number(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for {
		i := strings.IndexByte(query, '?')
		if i < 0 {
			b.WriteString(query)
			return b.String()
		}
		n++
		b.WriteString(query[:i])
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
		query = query[i+1:]
	}
}

// dialect is PostgreSQL's sqlstore.Dialect: times are timestamptz (NULL:
// never), lists text[], rows are locked FOR UPDATE, and text is ordered
// by bytes under COLLATE "C", as SQLite orders it.
type dialect struct{}

var _ sqlstore.Dialect = dialect{}

func (dialect) Name() string                     { return "postgres" }
func (dialect) Time(t time.Time) any             { return t }
func (dialect) NoTime() any                      { return nil }
func (dialect) Lock(strength string) string      { return " FOR " + strength }
func (dialect) Never(column string) string       { return column + ` IS NULL` }
func (dialect) ByteOrder() string                { return ` COLLATE "C"` }
func (dialect) IsUniqueViolation(err error) bool { return isUniqueViolation(err) }
func (dialect) Strings(list []string) any        { return sqlstore.NonNil(list) }
func (dialect) ScanStrings(list *[]string) any   { return list }

func (dialect) In(expr string, values []string) (string, []any) {
	return expr + ` = ANY (?)`, []any{sqlstore.NonNil(values)}
}

func (dialect) JSONText(column, field string) string { return column + `->>'` + field + `'` }

func (dialect) Day(column string) string { return `encounter_day(` + column + `)` }
func (dialect) CommonNameWords() int     { return 0 }

func (dialect) ListHas(column, value string) (string, any) { return `? = ANY (` + column + `)`, value }

func (dialect) ScanTime(t *time.Time, optional bool) any { return &timeDest{t, optional} }

// LockAuditHead locks the head row, which serialises appends until the
// transaction ends.
func (dialect) LockAuditHead(ctx context.Context, tx sqlstore.Tx) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&seq, &hash)
	return seq, hash, err
}

func (dialect) MoveAuditHead(e *huella.AuditEvent) []sqlstore.Statement {
	return []sqlstore.Statement{{Query: `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, Args: []any{e.Seq, e.Hash}}}
}

// timeDest scans a timestamptz into a time in UTC.
type timeDest struct {
	t        *time.Time
	optional bool
}

func (d *timeDest) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		if !d.optional {
			return errors.New("NULL time")
		}
		*d.t = time.Time{}
		return nil
	}
	*d.t = v.Time.UTC()
	return nil
}

// appendAudit is sqlstore.AppendAudit on a transaction of this store.
func appendAudit(ctx context.Context, tx pgx.Tx, e *huella.AuditEvent, now time.Time) error {
	return sqlstore.AppendAudit(ctx, dialect{}, wrap(tx), e, now)
}

// queueIndex queues the inserts of the encounter's search terms
// (sqlstore.IndexStatements).
func queueIndex(batch *pgx.Batch, c huella.FieldCipher, id string, b *huella.Biographics) {
	for _, st := range sqlstore.IndexStatements(c, id, b) {
		batch.Queue(rebind(st.Query), st.Args...)
	}
}
