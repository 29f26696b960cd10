package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/huella-abis/huella"
	"github.com/jackc/pgx/v5"
)

// CreateSite stores a new site and sets its CreatedAt.
func (s *Store) CreateSite(ctx context.Context, site *huella.Site) error {
	if err := site.Validate(); err != nil {
		return err
	}
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sites (code, name, country, time_zone, created_at) VALUES ($1, $2, $3, $4, $5)`,
			site.Code, site.Name, site.Country, site.TimeZone, now)
		if isUniqueViolation(err) {
			return huella.Errorf(huella.ECONFLICT, "site %s exists", site.Code)
		} else if err != nil {
			return fmt.Errorf("postgres: create site: %w", err)
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
	sites, err := s.querySites(ctx, `WHERE code = $1`, code)
	if err != nil {
		return nil, err
	}
	if len(sites) == 0 {
		return nil, huella.Errorf(huella.ENOTFOUND, "site %s not found", code)
	}
	return sites[0], nil
}

// ListSites returns every site, by code (in byte order, as SQLite sorts).
func (s *Store) ListSites(ctx context.Context) ([]*huella.Site, error) {
	return s.querySites(ctx, `ORDER BY code COLLATE "C"`)
}

func (s *Store) querySites(ctx context.Context, where string, args ...any) ([]*huella.Site, error) {
	rows, err := s.pool.Query(ctx, `SELECT code, name, country, time_zone, created_at FROM sites `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: sites: %w", err)
	}
	sites, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*huella.Site, error) {
		var site huella.Site
		err := row.Scan(&site.Code, &site.Name, &site.Country, &site.TimeZone, &site.CreatedAt)
		site.CreatedAt = site.CreatedAt.UTC()
		return &site, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: sites: %w", err)
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
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
func insertUser(ctx context.Context, tx pgx.Tx, u *huella.User, now time.Time) (string, error) {
	id := huella.NewID("usr_", now)
	for _, code := range u.Sites {
		if err := siteExists(ctx, tx, code); err != nil {
			return "", err
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO users (id, name, role, sites, partner, token_hash, disabled, created_at,
		token_issued_at, token_expires_at, identity) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		id, u.Name, string(u.Role), nonNil(u.Sites), u.Partner, u.TokenHash, u.Disabled, now,
		u.TokenIssuedAt, u.TokenExpiresAt, u.Identity)
	if isUniqueViolation(err) {
		return "", huella.Errorf(huella.ECONFLICT, "user name or token taken")
	} else if err != nil {
		return "", fmt.Errorf("postgres: create user: %w", err)
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		users, err := queryUsers(ctx, tx, `WHERE identity = $1 FOR UPDATE`, u.Identity)
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
				for _, code := range out.Sites {
					if err := siteExists(ctx, tx, code); err != nil {
						return err
					}
				}
				if _, err := tx.Exec(ctx, `UPDATE users SET role = $1, sites = $2 WHERE id = $3`, string(out.Role), nonNil(out.Sites), out.ID); err != nil {
					return fmt.Errorf("postgres: sign on user: %w", err)
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
func siteExists(ctx context.Context, tx pgx.Tx, code string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM sites WHERE code = $1`, code).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return huella.Errorf(huella.EINVALID, "unknown site %s", code)
	} else if err != nil {
		return fmt.Errorf("postgres: find site: %w", err)
	}
	return nil
}

// FindUserByTokenHash returns the enabled user whose token hashes to hash,
// or EUNAUTHORIZED.
func (s *Store) FindUserByTokenHash(ctx context.Context, hash []byte) (*huella.User, error) {
	users, err := s.queryUsers(ctx, `WHERE token_hash = $1 AND NOT disabled`, hash)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, huella.Errorf(huella.EUNAUTHORIZED, "unknown or disabled token")
	}
	return users[0], nil
}

// ListUsers returns every user, by name (in byte order, as SQLite sorts).
func (s *Store) ListUsers(ctx context.Context) ([]*huella.User, error) {
	return s.queryUsers(ctx, `ORDER BY name COLLATE "C"`)
}

// FindUser returns the user with the ID, or ENOTFOUND.
func (s *Store) FindUser(ctx context.Context, id string) (*huella.User, error) {
	return findUser(ctx, s.pool, id)
}

func findUser(ctx context.Context, q querier, id string) (*huella.User, error) {
	users, err := queryUsers(ctx, q, `WHERE id = $1`, id)
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
	return s.updateUser(ctx, id, action, `UPDATE users SET disabled = $1 WHERE id = $2`, disabled, id)
}

// RotateToken gives the user a new token hash, valid until expiresAt.
func (s *Store) RotateToken(ctx context.Context, id string, hash []byte, expiresAt time.Time) (*huella.User, error) {
	now, expiresAt := s.now(), stored(expiresAt)
	if len(hash) != sha256.Size || !expiresAt.After(now) {
		return nil, huella.Errorf(huella.EINVALID, "a rotated token needs a hash and an expiry ahead")
	}
	return s.updateUser(ctx, id, huella.ActionUserRotateToken,
		`UPDATE users SET token_hash = $1, token_issued_at = $2, token_expires_at = $3, token_used_at = NULL WHERE id = $4`,
		hash, now, expiresAt, id)
}

// updateUser runs one UPDATE of a user's row with its audit event, and
// returns the user as it is after.
func (s *Store) updateUser(ctx context.Context, id, action, query string, args ...any) (*huella.User, error) {
	now := s.now()
	var u *huella.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query, args...)
		if isUniqueViolation(err) {
			return huella.Errorf(huella.ECONFLICT, "token taken")
		} else if err != nil {
			return fmt.Errorf("postgres: %s: %w", action, err)
		}
		if tag.RowsAffected() == 0 {
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
	_, err := s.pool.Exec(ctx, `UPDATE users SET token_used_at = $1 WHERE id = $2
		AND (token_used_at IS NULL OR token_used_at < $1)`, at, id)
	if err != nil {
		return fmt.Errorf("postgres: record token use: %w", err)
	}
	return nil
}

func (s *Store) queryUsers(ctx context.Context, where string, args ...any) ([]*huella.User, error) {
	return queryUsers(ctx, s.pool, where, args...)
}

func queryUsers(ctx context.Context, q querier, where string, args ...any) ([]*huella.User, error) {
	rows, err := q.Query(ctx, `SELECT id, name, role, sites, partner, token_hash, disabled, created_at,
		token_issued_at, token_expires_at, token_used_at, identity FROM users `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*huella.User, error) {
		var u huella.User
		var created, issued, expires time.Time
		var used *time.Time
		err := row.Scan(&u.ID, &u.Name, &u.Role, &u.Sites, &u.Partner, &u.TokenHash, &u.Disabled, &created,
			&issued, &expires, &used, &u.Identity)
		u.Sites, u.CreatedAt = nilIfEmpty(u.Sites), created.UTC()
		u.TokenIssuedAt, u.TokenExpiresAt = issued.UTC(), expires.UTC()
		if used != nil {
			u.TokenUsedAt = used.UTC()
		}
		return &u, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: users: %w", err)
	}
	return users, nil
}

// nonNil returns s, or an empty slice for nil, for NOT NULL array columns.
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
