package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Test hooks, compiled into the package's tests only.

// ExecForTest runs a statement outside the store's API, to set up states
// the API cannot make (a database from before a migration).
func (s *Store) ExecForTest(ctx context.Context, sql string) error {
	_, err := s.pool.Exec(ctx, sql)
	return err
}

// BackfillNameSearch runs migration 6's Go step in a transaction.
func (s *Store) BackfillNameSearch(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return backfillNameSearch(ctx, tx) })
}
