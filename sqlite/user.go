package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/huella-abis/huella"
)

// CreateSite stores a new site and sets its CreatedAt.
func (s *Store) CreateSite(ctx context.Context, site *huella.Site) error {
	if err := site.Validate(); err != nil {
		return err
	}
	now := s.now()
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sites (code, name, country, time_zone, created_at) VALUES (?, ?, ?, ?, ?)`,
			site.Code, site.Name, site.Country, site.TimeZone, micros(now))
		if isUniqueViolation(err) {
			return huella.Errorf(huella.ECONFLICT, "site %s exists", site.Code)
		} else if err != nil {
			return fmt.Errorf("sqlite: create site: %w", err)
		}
		return appendAudit(ctx, tx, huella.NewAuditEvent(ctx, huella.ActionSiteCreate, "site/"+site.Code, site.Code), now)
	})
	if err == nil {
		site.CreatedAt = now
	}
	return err
}

// FindSite returns the site with the code, or ENOTFOUND.
func (s *Store) FindSite(ctx context.Context, code string) (*huella.Site, error) {
	sites, err := s.querySites(ctx, `WHERE code = ?`, code)
	if err != nil {
		return nil, err
	}
	if len(sites) == 0 {
		return nil, huella.Errorf(huella.ENOTFOUND, "site %s not found", code)
	}
	return sites[0], nil
}

// ListSites returns every site, by code.
func (s *Store) ListSites(ctx context.Context) ([]*huella.Site, error) {
	return s.querySites(ctx, `ORDER BY code`)
}

func (s *Store) querySites(ctx context.Context, where string, args ...any) ([]*huella.Site, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT code, name, country, time_zone, created_at FROM sites `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: sites: %w", err)
	}
	defer rows.Close()
	sites := []*huella.Site{}
	for rows.Next() {
		var site huella.Site
		var created int64
		if err := rows.Scan(&site.Code, &site.Name, &site.Country, &site.TimeZone, &created); err != nil {
			return nil, fmt.Errorf("sqlite: sites: %w", err)
		}
		site.CreatedAt = fromMicros(created)
		sites = append(sites, &site)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: sites: %w", err)
	}
	return sites, nil
}

// CreateUser stores a new user and sets its ID and CreatedAt, and issues a
// token not issued yet for huella.DefaultTokenLifetime.
func (s *Store) CreateUser(ctx context.Context, u *huella.User) error {
	now := s.now()
	if err := prepareUser(u, now); err != nil {
		return err
	}
	var id string
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = insertUser(ctx, tx, u, now)
		return err
	})
	if err == nil {
		u.ID, u.CreatedAt = id, now
	}
	return err
}

// prepareUser issues a token not issued yet and validates the user.
func prepareUser(u *huella.User, now time.Time) error {
	if u.TokenIssuedAt.IsZero() {
		u.IssueToken(u.TokenHash, now, huella.DefaultTokenLifetime)
	}
	u.TokenIssuedAt, u.TokenExpiresAt = stored(u.TokenIssuedAt), stored(u.TokenExpiresAt)
	return u.Validate()
}

// insertUser stores the prepared user with its audit event and returns its ID.
func insertUser(ctx context.Context, tx *sql.Tx, u *huella.User, now time.Time) (string, error) {
	id := huella.NewID("usr_", now)
	sites, err := json.Marshal(nonNil(u.Sites))
	if err != nil {
		return "", fmt.Errorf("sqlite: create user: %w", err)
	}
	for _, code := range u.Sites {
		if err := siteExists(ctx, tx, code); err != nil {
			return "", err
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO users (id, name, role, sites, partner, token_hash, disabled, created_at,
		token_issued_at, token_expires_at, token_used_at, identity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
		id, u.Name, string(u.Role), string(sites), u.Partner, u.TokenHash, u.Disabled, micros(now),
		micros(u.TokenIssuedAt), micros(u.TokenExpiresAt), u.Identity)
	if isUniqueViolation(err) {
		return "", huella.Errorf(huella.ECONFLICT, "user name or token taken")
	} else if err != nil {
		return "", fmt.Errorf("sqlite: create user: %w", err)
	}
	return id, appendAudit(ctx, tx, huella.NewAuditEvent(ctx, huella.ActionUserCreate, "user/"+id, ""), now)
}

// SignOnUser returns the user of the single sign-on account u.Identity,
// created or brought up to date from u, with the sign-on audited.
func (s *Store) SignOnUser(ctx context.Context, u *huella.User) (*huella.User, error) {
	if u.Identity == "" {
		return nil, huella.Errorf(huella.EINVALID, "a single sign-on user needs an identity")
	}
	now := s.now()
	var out *huella.User
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		users, err := queryUsers(ctx, tx, `WHERE identity = ?`, u.Identity)
		if err != nil {
			return err
		}
		switch {
		case len(users) == 0:
			nu := *u
			if err := prepareUser(&nu, now); err != nil {
				return err
			}
			if nu.ID, err = insertUser(ctx, tx, &nu, now); err != nil {
				return err
			}
			nu.CreatedAt, out = now, &nu
		case users[0].Disabled:
			out = users[0]
			return nil
		default:
			out = users[0]
			changed, err := out.TakeAccess(u)
			if err != nil {
				return err
			}
			if changed {
				sites, _ := json.Marshal(nonNil(out.Sites))
				for _, code := range out.Sites {
					if err := siteExists(ctx, tx, code); err != nil {
						return err
					}
				}
				if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, sites = ? WHERE id = ?`, string(out.Role), string(sites), out.ID); err != nil {
					return fmt.Errorf("sqlite: sign on user: %w", err)
				}
				e := huella.NewAuditEvent(ctx, huella.ActionUserUpdate, "user/"+out.ID, "")
				e.Detail = out.AccessDetail()
				if err := appendAudit(ctx, tx, e, now); err != nil {
					return err
				}
			}
		}
		return appendAudit(ctx, tx, huella.NewAuditEvent(huella.NewContextWithActor(ctx, out), huella.ActionUserSignOn, "user/"+out.ID, ""), now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// siteExists returns EINVALID unless the site is stored.
func siteExists(ctx context.Context, tx *sql.Tx, code string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM sites WHERE code = ?`, code).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return huella.Errorf(huella.EINVALID, "unknown site %s", code)
	} else if err != nil {
		return fmt.Errorf("sqlite: find site: %w", err)
	}
	return nil
}

// FindUserByTokenHash returns the enabled user whose token hashes to hash,
// or EUNAUTHORIZED.
func (s *Store) FindUserByTokenHash(ctx context.Context, hash []byte) (*huella.User, error) {
	users, err := s.queryUsers(ctx, `WHERE token_hash = ? AND NOT disabled`, hash)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, huella.Errorf(huella.EUNAUTHORIZED, "unknown or disabled token")
	}
	return users[0], nil
}

// ListUsers returns every user, by name.
func (s *Store) ListUsers(ctx context.Context) ([]*huella.User, error) {
	return s.queryUsers(ctx, `ORDER BY name`)
}

// FindUser returns the user with the ID, or ENOTFOUND.
func (s *Store) FindUser(ctx context.Context, id string) (*huella.User, error) {
	return findUser(ctx, s.read, id)
}

func findUser(ctx context.Context, q querier, id string) (*huella.User, error) {
	users, err := queryUsers(ctx, q, `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, huella.Errorf(huella.ENOTFOUND, "user %s not found", id)
	}
	return users[0], nil
}

// SetUserDisabled disables or re-enables the user.
func (s *Store) SetUserDisabled(ctx context.Context, id string, disabled bool) (*huella.User, error) {
	action := huella.ActionUserEnable
	if disabled {
		action = huella.ActionUserDisable
	}
	return s.updateUser(ctx, id, action, `UPDATE users SET disabled = ? WHERE id = ?`, disabled, id)
}

// RotateToken gives the user a new token hash, valid until expiresAt.
func (s *Store) RotateToken(ctx context.Context, id string, hash []byte, expiresAt time.Time) (*huella.User, error) {
	now, expiresAt := s.now(), stored(expiresAt)
	if len(hash) != sha256.Size || !expiresAt.After(now) {
		return nil, huella.Errorf(huella.EINVALID, "a rotated token needs a hash and an expiry ahead")
	}
	return s.updateUser(ctx, id, huella.ActionUserRotateToken,
		`UPDATE users SET token_hash = ?, token_issued_at = ?, token_expires_at = ?, token_used_at = 0 WHERE id = ?`,
		hash, micros(now), micros(expiresAt), id)
}

// updateUser runs one UPDATE of a user's row with its audit event, and
// returns the user as it is after.
func (s *Store) updateUser(ctx context.Context, id, action, query string, args ...any) (*huella.User, error) {
	now := s.now()
	var u *huella.User
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if isUniqueViolation(err) {
			return huella.Errorf(huella.ECONFLICT, "token taken")
		} else if err != nil {
			return fmt.Errorf("sqlite: %s: %w", action, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return huella.Errorf(huella.ENOTFOUND, "user %s not found", id)
		}
		if u, err = findUser(ctx, tx, id); err != nil {
			return err
		}
		return appendAudit(ctx, tx, huella.NewAuditEvent(ctx, action, "user/"+id, ""), now)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// RecordTokenUse records that the user's token was used at the time.
func (s *Store) RecordTokenUse(ctx context.Context, id string, at time.Time) error {
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET token_used_at = ? WHERE id = ? AND token_used_at < ?`,
			micros(at), id, micros(at)); err != nil {
			return fmt.Errorf("sqlite: record token use: %w", err)
		}
		return nil
	})
}

func (s *Store) queryUsers(ctx context.Context, where string, args ...any) ([]*huella.User, error) {
	return queryUsers(ctx, s.read, where, args...)
}

func queryUsers(ctx context.Context, q querier, where string, args ...any) ([]*huella.User, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, role, sites, partner, token_hash, disabled, created_at,
		token_issued_at, token_expires_at, token_used_at, identity FROM users `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: users: %w", err)
	}
	defer rows.Close()
	users := []*huella.User{}
	for rows.Next() {
		var u huella.User
		var sites string
		var created, issued, expires, used int64
		if err := rows.Scan(&u.ID, &u.Name, &u.Role, &sites, &u.Partner, &u.TokenHash, &u.Disabled, &created,
			&issued, &expires, &used, &u.Identity); err != nil {
			return nil, fmt.Errorf("sqlite: users: %w", err)
		}
		if err := json.Unmarshal([]byte(sites), &u.Sites); err != nil {
			return nil, fmt.Errorf("sqlite: user %s sites: %w", u.ID, err)
		}
		u.Sites = nilIfEmpty(u.Sites)
		u.CreatedAt, u.TokenIssuedAt, u.TokenExpiresAt = fromMicros(created), fromMicros(issued), fromMicros(expires)
		if used != 0 {
			u.TokenUsedAt = fromMicros(used)
		}
		users = append(users, &u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: users: %w", err)
	}
	return users, nil
}

// nonNil returns s, or an empty slice for nil, so that JSON columns hold []
// rather than null.
func nonNil[T any](s []T) []T {
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
