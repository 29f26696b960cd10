package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/huella-abis/huella"
)

var _ huella.KeyStore = (*Store)(nil)

// ListKeys returns every key, retired ones included, oldest first.
func (s *Store) ListKeys(ctx context.Context) ([]*huella.WrappedKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, purpose, kek_id, wrapped, active, created_at, retired_at
		FROM keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: keys: %w", err)
	}
	defer rows.Close()
	var list []*huella.WrappedKey
	for rows.Next() {
		var k huella.WrappedKey
		var created, retired int64
		if err := rows.Scan(&k.ID, &k.Purpose, &k.KEKID, &k.Wrapped, &k.Active, &created, &retired); err != nil {
			return nil, fmt.Errorf("sqlite: keys: %w", err)
		}
		k.CreatedAt = fromMicros(created)
		if retired != 0 {
			k.RetiredAt = fromMicros(retired)
		}
		list = append(list, &k)
	}
	return list, rows.Err()
}

// AddKey stores a new key; an active one deactivates the others of its
// purpose in the same transaction. ECONFLICT if the ID is taken.
func (s *Store) AddKey(ctx context.Context, k *huella.WrappedKey) error {
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		if k.Active {
			if _, err := tx.ExecContext(ctx, `UPDATE keys SET active = 0 WHERE purpose = ?`, k.Purpose); err != nil {
				return fmt.Errorf("sqlite: add key: %w", err)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO keys (id, purpose, kek_id, wrapped, active, created_at, retired_at)
			VALUES (?, ?, ?, ?, ?, ?, 0)`, k.ID, k.Purpose, k.KEKID, k.Wrapped, k.Active, micros(k.CreatedAt))
		if isUniqueViolation(err) {
			return huella.Errorf(huella.ECONFLICT, "key %s exists", k.ID)
		} else if err != nil {
			return fmt.Errorf("sqlite: add key: %w", err)
		}
		return nil
	})
}

// RetireKey forgets the wrapped key. ENOTFOUND; ECONFLICT for the active
// key.
func (s *Store) RetireKey(ctx context.Context, id string, at time.Time) error {
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		var active bool
		err := tx.QueryRowContext(ctx, `SELECT active FROM keys WHERE id = ?`, id).Scan(&active)
		if errors.Is(err, sql.ErrNoRows) {
			return huella.Errorf(huella.ENOTFOUND, "key %s not found", id)
		} else if err != nil {
			return fmt.Errorf("sqlite: retire key: %w", err)
		}
		if active {
			return huella.Errorf(huella.ECONFLICT, "key %s is the active key", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE keys SET wrapped = NULL, retired_at = ? WHERE id = ?`, micros(stored(at)), id); err != nil {
			return fmt.Errorf("sqlite: retire key: %w", err)
		}
		return nil
	})
}

// RewrapKeys replaces the wrapping of the keys in one transaction.
func (s *Store) RewrapKeys(ctx context.Context, keys []*huella.WrappedKey) error {
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			res, err := tx.ExecContext(ctx, `UPDATE keys SET wrapped = ?, kek_id = ? WHERE id = ? AND retired_at = 0`, k.Wrapped, k.KEKID, k.ID)
			if err != nil {
				return fmt.Errorf("sqlite: rewrap key: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("sqlite: rewrap key: %w", err)
			} else if n == 0 {
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

// sealing returns the cipher to seal with in the write transaction tx,
// first making sure that it seals with the data key the database names as
// active: another process may have rotated. Writes are serialized, so no
// field is sealed with a key older than the active one once a rotation has
// committed.
func (s *Store) sealing(ctx context.Context, tx *sql.Tx) (huella.FieldCipher, error) {
	c := s.fields()
	if s.Keys == nil {
		return c, nil
	}
	var id string
	err := tx.QueryRowContext(ctx, `SELECT id FROM keys WHERE purpose = ? AND active = 1`, huella.KeyPurposeData).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: active key: %w", err)
	}
	if id != c.ActiveKeyID() {
		if err := c.Reload(ctx); err != nil {
			return nil, err
		}
		if id != c.ActiveKeyID() {
			return nil, fmt.Errorf("sqlite: the active key %s is not held", id)
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
// not sealed under the key whose ciphertexts begin with the prefix ?1.
func (t sealedTable) notUnder() string {
	var conds []string
	for _, c := range t.columns {
		conds = append(conds, fmt.Sprintf(`(%[1]s IS NOT NULL AND (typeof(%[1]s) != 'blob' OR substr(%[1]s, 1, length(?1)) != ?1))`, c.column))
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}

// sealPrefix returns how every field sealed under the key begins.
func sealPrefix(keyID string) ([]byte, error) {
	id, err := hex.DecodeString(keyID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: key ID %q: %w", keyID, err)
	}
	return append([]byte("HF1"), id...), nil
}

// Reencrypt seals every field not sealed under the active data key with
// it, batch rows per transaction; rows written before encryption at rest
// are re-indexed too. It is online (each batch holds the writer for a few
// milliseconds) and resumable: it selects only the rows still to move.
func (s *Store) Reencrypt(ctx context.Context, batch int, progress func(huella.ReencryptProgress)) error {
	if s.Keys == nil {
		return errors.New("sqlite: reencrypt: the store has no keys")
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
		if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM `+t.table+` WHERE `+t.notUnder(), prefix).Scan(&n); err != nil {
			return 0, fmt.Errorf("sqlite: reencrypt %s: %w", t.table, err)
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

// reencryptBatch moves up to batch rows of the table with keys after after
// to the active key, in one transaction, and returns how many, the last
// key and the bytes written.
func (s *Store) reencryptBatch(ctx context.Context, t sealedTable, after string, batch int) (n int, last string, written int64, err error) {
	err = s.inWriteTx(ctx, func(tx *sql.Tx) error {
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
		rows, err := tx.QueryContext(ctx, `SELECT `+t.key+`, `+strings.Join(cols, ", ")+` FROM `+t.table+`
			WHERE `+t.key+` > ?2 AND `+t.notUnder()+` ORDER BY `+t.key+` LIMIT ?3`, prefix, after, batch)
		if err != nil {
			return fmt.Errorf("sqlite: reencrypt %s: %w", t.table, err)
		}
		type row struct {
			key    string
			fields [][]byte
		}
		var list []row
		for rows.Next() {
			r := row{fields: make([][]byte, len(t.columns))}
			dest := []any{&r.key}
			for i := range r.fields {
				dest = append(dest, &r.fields[i])
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: reencrypt %s: %w", t.table, err)
			}
			list = append(list, r)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("sqlite: reencrypt %s: %w", t.table, err)
		}
		sets := make([]string, len(t.columns))
		for i, col := range t.columns {
			sets[i] = col.column + ` = ?`
		}
		update := `UPDATE ` + t.table + ` SET ` + strings.Join(sets, ", ") + ` WHERE ` + t.key + ` = ?`
		for _, r := range list {
			re, err := huella.Reseal(c, r.key, t.fields(), r.fields)
			if err != nil {
				return fmt.Errorf("sqlite: reencrypt %s: %w", t.table, err)
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
			if _, err := tx.ExecContext(ctx, update, append(args, r.key)...); err != nil {
				return fmt.Errorf("sqlite: reencrypt %s: %w", t.table, err)
			}
			if t.reindex && re.WasPlain {
				if err := reindexEncounter(ctx, tx, c, r.key, re.First); err != nil {
					return err
				}
			}
		}
		n = len(list)
		if n == 0 {
			return nil
		}
		last = list[n-1].key
		event := huella.NewAuditEvent(ctx, huella.ActionKeyReencrypt, "key/"+c.ActiveKeyID(), "")
		event.Detail = fmt.Sprintf("table=%s rows=%d", t.table, n)
		return appendAudit(ctx, tx, event, s.now())
	})
	return n, last, written, err
}

// reindexEncounter replaces the search terms of an encounter written
// before encryption at rest (words in plain text) with tokens.
func reindexEncounter(ctx context.Context, tx *sql.Tx, c huella.FieldCipher, id string, biographics []byte) error {
	var b huella.Biographics
	if err := json.Unmarshal(biographics, &b); err != nil {
		return fmt.Errorf("sqlite: encounter %s biographics: %w", id, err)
	}
	for _, q := range []string{`DELETE FROM encounter_name_words WHERE encounter_id = ?`, `DELETE FROM encounter_documents WHERE encounter_id = ?`} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("sqlite: reindex: %w", err)
		}
	}
	return indexEncounter(ctx, tx, c, id, &b)
}

// KeyUsage counts the sealed fields by data key ID, "" for fields not
// sealed at all.
func (s *Store) KeyUsage(ctx context.Context) (map[string]int, error) {
	usage := make(map[string]int)
	for _, t := range sealedTables {
		for _, col := range t.columns {
			rows, err := s.read.QueryContext(ctx, fmt.Sprintf(`SELECT CASE WHEN typeof(%[1]s) = 'blob' AND substr(%[1]s, 1, 3) = CAST('HF1' AS BLOB)
				THEN lower(hex(substr(%[1]s, 4, 8))) ELSE '' END, count(*) FROM %[2]s WHERE %[1]s IS NOT NULL GROUP BY 1`, col.column, t.table))
			if err != nil {
				return nil, fmt.Errorf("sqlite: key usage: %w", err)
			}
			for rows.Next() {
				var id string
				var n int
				if err := rows.Scan(&id, &n); err != nil {
					rows.Close()
					return nil, fmt.Errorf("sqlite: key usage: %w", err)
				}
				usage[id] += n
			}
			if err := rows.Close(); err != nil {
				return nil, fmt.Errorf("sqlite: key usage: %w", err)
			}
		}
	}
	return usage, nil
}
