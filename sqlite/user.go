package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

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

// CreateUser stores a new user and sets its ID and CreatedAt.
func (s *Store) CreateUser(ctx context.Context, u *huella.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	now := s.now()
	id := huella.NewID("usr_", now)
	sites, err := json.Marshal(nonNil(u.Sites))
	if err != nil {
		return fmt.Errorf("sqlite: create user: %w", err)
	}
	err = s.inWriteTx(ctx, func(tx *sql.Tx) error {
		for _, code := range u.Sites {
			if err := siteExists(ctx, tx, code); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, name, role, sites, partner, token_hash, disabled, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			id, u.Name, string(u.Role), string(sites), u.Partner, u.TokenHash, u.Disabled, micros(now))
		if isUniqueViolation(err) {
			return huella.Errorf(huella.ECONFLICT, "user name or token taken")
		} else if err != nil {
			return fmt.Errorf("sqlite: create user: %w", err)
		}
		return appendAudit(ctx, tx, huella.NewAuditEvent(ctx, huella.ActionUserCreate, "user/"+id, ""), now)
	})
	if err == nil {
		u.ID, u.CreatedAt = id, now
	}
	return err
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

func (s *Store) queryUsers(ctx context.Context, where string, args ...any) ([]*huella.User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, name, role, sites, partner, token_hash, disabled, created_at FROM users `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: users: %w", err)
	}
	defer rows.Close()
	users := []*huella.User{}
	for rows.Next() {
		var u huella.User
		var sites string
		var created int64
		if err := rows.Scan(&u.ID, &u.Name, &u.Role, &sites, &u.Partner, &u.TokenHash, &u.Disabled, &created); err != nil {
			return nil, fmt.Errorf("sqlite: users: %w", err)
		}
		if err := json.Unmarshal([]byte(sites), &u.Sites); err != nil {
			return nil, fmt.Errorf("sqlite: user %s sites: %w", u.ID, err)
		}
		u.Sites = nilIfEmpty(u.Sites)
		u.CreatedAt = fromMicros(created)
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
