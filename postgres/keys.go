package postgres

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/huella-abis/huella"
	"github.com/jackc/pgx/v5"
)

var (
	_ huella.KeyStore    = (*Store)(nil)
	_ huella.Reencrypter = (*Store)(nil)
)

// ListKeys returns every key, retired ones included, oldest first.
func (s *Store) ListKeys(ctx context.Context) ([]*huella.WrappedKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, purpose, kek_id, wrapped, active, created_at, retired_at FROM keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: keys: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*huella.WrappedKey, error) {
		var k huella.WrappedKey
		var retired *time.Time
		if err := row.Scan(&k.ID, &k.Purpose, &k.KEKID, &k.Wrapped, &k.Active, &k.CreatedAt, &retired); err != nil {
			return nil, err
		}
		k.CreatedAt = k.CreatedAt.UTC()
		if retired != nil {
			k.RetiredAt = retired.UTC()
		}
		return &k, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: keys: %w", err)
	}
	return list, nil
}

// AddKey stores a new key; an active one deactivates the others of its
// purpose in the same transaction. ECONFLICT if the ID is taken.
func (s *Store) AddKey(ctx context.Context, k *huella.WrappedKey) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		// Wait for the transactions sealing with the old key (sealing).
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(keyLock)); err != nil {
			return fmt.Errorf("postgres: add key: %w", err)
		}
		if k.Active {
			if _, err := tx.Exec(ctx, `UPDATE keys SET active = false WHERE purpose = $1 AND active`, k.Purpose); err != nil {
				return fmt.Errorf("postgres: add key: %w", err)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO keys (id, purpose, kek_id, wrapped, active, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			k.ID, k.Purpose, k.KEKID, k.Wrapped, k.Active, stored(k.CreatedAt))
		if isUniqueViolation(err) {
			return huella.Errorf(huella.ECONFLICT, "key %s exists", k.ID)
		} else if err != nil {
			return fmt.Errorf("postgres: add key: %w", err)
		}
		return nil
	})
}

// RetireKey forgets the wrapped key. ENOTFOUND; ECONFLICT for the active
// key.
func (s *Store) RetireKey(ctx context.Context, id string, at time.Time) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var active bool
		err := tx.QueryRow(ctx, `SELECT active FROM keys WHERE id = $1 FOR UPDATE`, id).Scan(&active)
		if errors.Is(err, pgx.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "key %s not found", id)
		} else if err != nil {
			return fmt.Errorf("postgres: retire key: %w", err)
		}
		if active {
			return huella.Errorf(huella.ECONFLICT, "key %s is the active key", id)
		}
		if _, err := tx.Exec(ctx, `UPDATE keys SET wrapped = NULL, retired_at = $2 WHERE id = $1`, id, stored(at)); err != nil {
			return fmt.Errorf("postgres: retire key: %w", err)
		}
		return nil
	})
}

// RewrapKeys replaces the wrapping of the keys in one transaction.
func (s *Store) RewrapKeys(ctx context.Context, keys []*huella.WrappedKey) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		for _, k := range keys {
			tag, err := tx.Exec(ctx, `UPDATE keys SET wrapped = $1, kek_id = $2 WHERE id = $3 AND retired_at IS NULL`, k.Wrapped, k.KEKID, k.ID)
			if err != nil {
				return fmt.Errorf("postgres: rewrap key: %w", err)
			}
			if tag.RowsAffected() == 0 {
				return huella.Errorf(huella.ENOTFOUND, "key %s not found", k.ID)
			}
		}
		return nil
	})
}

// fields returns the cipher of the store's personal fields.
func (s *Store) fields() huella.FieldCipher {
	if s.Keys == nil {
		return huella.Plaintext
	}
	return s.Keys
}

// keyLock is the advisory lock a transaction that seals holds shared, and
// AddKey exclusive: a rotation waits for the transactions sealing with the
// old key, and every transaction after it seals with the new one.
const keyLock = 0x48756b6579 // "Hukey"

// sealing returns the cipher to seal with in the transaction tx, first
// making sure that it seals with the data key the database names as
// active, holding keyLock shared until tx ends. One round trip: in a
// pipeline each statement reads after the one before it.
func (s *Store) sealing(ctx context.Context, tx pgx.Tx) (huella.FieldCipher, error) {
	c := s.fields()
	if s.Keys == nil {
		return c, nil
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock_shared($1)`, int64(keyLock))
	b.Queue(`SELECT id FROM keys WHERE purpose = $1 AND active`, huella.KeyPurposeData)
	results := tx.SendBatch(ctx, b)
	_, err := results.Exec()
	var id string
	if err == nil {
		err = results.QueryRow().Scan(&id)
	}
	if cerr := results.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: active key: %w", err)
	}
	if id != c.ActiveKeyID() {
		if err := c.Reload(ctx); err != nil {
			return nil, err
		}
		if id != c.ActiveKeyID() {
			return nil, fmt.Errorf("postgres: the active key %s is not held", id)
		}
	}
	return c, nil
}

// sealedColumn is a column of sealed fields: its AAD is kind/ID/field.
type sealedColumn struct{ column, kind, field string }

// sealedTable is a table with sealed columns, keyed by key.
type sealedTable struct {
	table, key string
	columns    []sealedColumn
	reindex    bool // its rows written before encryption need new search tokens
}

// fields names the table's sealed fields for huella.Reseal.
func (t sealedTable) fields() []huella.SealedField {
	out := make([]huella.SealedField, len(t.columns))
	for i, c := range t.columns {
		out[i] = huella.SealedField{Kind: c.kind, Field: c.field}
	}
	return out
}

// sealedTables are every table that holds sealed fields.
var sealedTables = []sealedTable{
	{"encounters", "id", []sealedColumn{{"biographics", "encounter", "biographics"}, {"history_offence", "encounter", "history_offence"},
		{"history_status", "encounter", "history_status"}}, true},
	{"templates", "sample_id", []sealedColumn{{"data", "template", "data"}}, false},
	{"watch_entries", "id", []sealedColumn{{"biographics", "watch_entry", "biographics"}}, false},
	{"watch_samples", "id", []sealedColumn{{"template_data", "watch_sample", "template"}}, false},
}

// notUnder returns the condition selecting the table's rows with a field
// not sealed under the key whose ciphertexts begin with the prefix $1.
func (t sealedTable) notUnder() string {
	var conds []string
	for _, c := range t.columns {
		conds = append(conds, fmt.Sprintf(`(%[1]s IS NOT NULL AND substring(%[1]s from 1 for length($1::bytea)) <> $1::bytea)`, c.column))
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}

// sealPrefix returns how every field sealed under the key begins.
func sealPrefix(keyID string) ([]byte, error) {
	id, err := hex.DecodeString(keyID)
	if err != nil {
		return nil, fmt.Errorf("postgres: key ID %q: %w", keyID, err)
	}
	return append([]byte("HF1"), id...), nil
}

// Reencrypt seals every field not sealed under the active data key with
// it, batch rows per transaction; rows written before encryption at rest
// are re-indexed too. It is online and resumable: it selects only the rows
// still to move, and locks only those of the batch.
func (s *Store) Reencrypt(ctx context.Context, batch int, progress func(huella.ReencryptProgress)) error {
	if s.Keys == nil {
		return errors.New("postgres: reencrypt: the store has no keys")
	}
	if batch <= 0 {
		batch = 500
	}
	count := func(t sealedTable) (int, error) {
		prefix, err := sealPrefix(s.Keys.ActiveKeyID())
		if err != nil {
			return 0, err
		}
		var n int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+t.table+` WHERE `+t.notUnder(), prefix).Scan(&n); err != nil {
			return 0, fmt.Errorf("postgres: reencrypt %s: %w", t.table, err)
		}
		return n, nil
	}
	err := huella.ReencryptTables(sealedTables, func(t sealedTable) string { return t.table }, count,
		func(t sealedTable, after string) (int, string, int64, error) {
			return s.reencryptBatch(ctx, t, after, batch)
		}, progress)
	if err != nil {
		return err
	}
	// Nationalities are tokens, not sealed fields: rows from before hold
	// the code, replaced here.
	_, err = s.TokeniseNationalities(ctx)
	return err
}

func (s *Store) reencryptBatch(ctx context.Context, t sealedTable, after string, batch int) (n int, last string, written int64, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		c, err := s.sealing(ctx, tx)
		if err != nil {
			return err
		}
		prefix, err := sealPrefix(c.ActiveKeyID())
		if err != nil {
			return err
		}
		cols := make([]string, len(t.columns))
		for i, col := range t.columns {
			cols[i] = col.column
		}
		rows, err := tx.Query(ctx, `SELECT `+t.key+`, `+strings.Join(cols, ", ")+` FROM `+t.table+`
			WHERE `+t.key+` > $2 AND `+t.notUnder()+` ORDER BY `+t.key+` LIMIT $3 FOR UPDATE`, prefix, after, batch)
		if err != nil {
			return fmt.Errorf("postgres: reencrypt %s: %w", t.table, err)
		}
		type row struct {
			key    string
			fields [][]byte
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			x := row{fields: make([][]byte, len(t.columns))}
			dest := []any{&x.key}
			for i := range x.fields {
				dest = append(dest, &x.fields[i])
			}
			return x, r.Scan(dest...)
		})
		if err != nil {
			return fmt.Errorf("postgres: reencrypt %s: %w", t.table, err)
		}
		sets := make([]string, len(t.columns))
		for i, col := range t.columns {
			sets[i] = fmt.Sprintf(`%s = $%d`, col.column, i+1)
		}
		update := `UPDATE ` + t.table + ` SET ` + strings.Join(sets, ", ") + fmt.Sprintf(` WHERE %s = $%d`, t.key, len(t.columns)+1)
		b := &pgx.Batch{}
		for _, r := range list {
			re, err := huella.Reseal(c, r.key, t.fields(), r.fields)
			if err != nil {
				return fmt.Errorf("postgres: reencrypt %s: %w", t.table, err)
			}
			written += re.Bytes
			args := make([]any, 0, len(t.columns)+1)
			for _, f := range re.Fields {
				if f == nil {
					args = append(args, nil) // NULL stays NULL
					continue
				}
				args = append(args, f)
			}
			b.Queue(update, append(args, r.key)...)
			if t.reindex && re.WasPlain {
				var bio huella.Biographics
				if err := json.Unmarshal(re.First, &bio); err != nil {
					return fmt.Errorf("postgres: encounter %s biographics: %w", r.key, err)
				}
				b.Queue(`DELETE FROM encounter_name_words WHERE encounter_id = $1`, r.key)
				b.Queue(`DELETE FROM encounter_documents WHERE encounter_id = $1`, r.key)
				queueIndex(b, c, r.key, &bio)
			}
		}
		n = len(list)
		if n == 0 {
			return nil
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("postgres: reencrypt %s: %w", t.table, err)
		}
		last = list[n-1].key
		event := huella.NewAuditEvent(ctx, huella.ActionKeyReencrypt, "key/"+c.ActiveKeyID(), "")
		event.Detail = fmt.Sprintf("table=%s rows=%d", t.table, n)
		return appendAudit(ctx, tx, event, s.now())
	})
	return n, last, written, err
}

// KeyUsage counts the sealed fields by data key ID, "" for fields not
// sealed at all.
func (s *Store) KeyUsage(ctx context.Context) (map[string]int, error) {
	usage := make(map[string]int)
	for _, t := range sealedTables {
		for _, col := range t.columns {
			rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT CASE WHEN substring(%[1]s from 1 for 3) = '\x484631'::bytea
				THEN encode(substring(%[1]s from 4 for 8), 'hex') ELSE '' END AS id, count(*) FROM %[2]s WHERE %[1]s IS NOT NULL GROUP BY 1`, col.column, t.table))
			if err != nil {
				return nil, fmt.Errorf("postgres: key usage: %w", err)
			}
			var id string
			var n int
			if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { usage[id] += n; return nil }); err != nil {
				return nil, fmt.Errorf("postgres: key usage: %w", err)
			}
		}
	}
	return usage, nil
}
