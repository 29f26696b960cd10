package postgres

import (
	"context"
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

// CreateUser stores a new user and sets its ID and CreatedAt.
func (s *Store) CreateUser(ctx context.Context, u *huella.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	now := s.now()
	id := huella.NewID("usr_", now)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		for _, code := range u.Sites {
			if err := siteExists(ctx, tx, code); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO users (id, name, role, sites, partner, token_hash, disabled, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			id, u.Name, string(u.Role), nonNil(u.Sites), u.Partner, u.TokenHash, u.Disabled, now)
		if isUniqueViolation(err) {
			return huella.Errorf(huella.ECONFLICT, "user name or token taken")
		} else if err != nil {
			return fmt.Errorf("postgres: create user: %w", err)
		}
		return appendAudit(ctx, tx, huella.NewAuditEvent(ctx, huella.ActionUserCreate, "user/"+id, ""), now)
	})
	if err == nil {
		u.ID, u.CreatedAt = id, now
	}
	return err
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

func (s *Store) queryUsers(ctx context.Context, where string, args ...any) ([]*huella.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, role, sites, partner, token_hash, disabled, created_at FROM users `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*huella.User, error) {
		var u huella.User
		var created time.Time
		err := row.Scan(&u.ID, &u.Name, &u.Role, &u.Sites, &u.Partner, &u.TokenHash, &u.Disabled, &created)
		u.Sites, u.CreatedAt = nilIfEmpty(u.Sites), created.UTC()
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
