package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
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
	err := s.db.InWriteTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sites (code, name, country, time_zone, created_at) VALUES (?, ?, ?, ?, ?)`,
			site.Code, site.Name, site.Country, site.TimeZone, s.d.Time(now))
		if s.d.IsUniqueViolation(err) {
			return huella.Errorf(huella.ECONFLICT, "site %s exists", site.Code)
		} else if err != nil {
			return s.errorf("create site", err)
		}
		return s.appendAudit(ctx, tx, huella.NewAuditEvent(ctx, huella.ActionSiteCreate, "site/"+site.Code, site.Code), now)
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

// ListSites returns every site, by code (in byte order).
func (s *Store) ListSites(ctx context.Context) ([]*huella.Site, error) {
	return s.querySites(ctx, `ORDER BY code`+s.d.ByteOrder())
}

func (s *Store) querySites(ctx context.Context, where string, args ...any) ([]*huella.Site, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT code, name, country, time_zone, created_at FROM sites `+where, args...)
	if err != nil {
		return nil, s.errorf("sites", err)
	}
	defer rows.Close()
	sites := []*huella.Site{}
	for rows.Next() {
		var site huella.Site
		if err := rows.Scan(&site.Code, &site.Name, &site.Country, &site.TimeZone, s.d.ScanTime(&site.CreatedAt, false)); err != nil {
			return nil, s.errorf("sites", err)
		}
		sites = append(sites, &site)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("sites", err)
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
	err := s.db.InWriteTx(ctx, func(tx Tx) error {
		var err error
		id, err = s.insertUser(ctx, tx, u, now)
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
func (s *Store) insertUser(ctx context.Context, tx Tx, u *huella.User, now time.Time) (string, error) {
	id := huella.NewID("usr_", now)
	for _, code := range u.Sites {
		if err := siteExists(ctx, s.d, tx, code); err != nil {
			return "", err
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO users (id, name, role, sites, partner, token_hash, disabled, created_at,
		token_issued_at, token_expires_at, token_used_at, identity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, u.Name, string(u.Role), s.d.Strings(u.Sites), u.Partner, u.TokenHash, u.Disabled, s.d.Time(now),
		s.d.Time(u.TokenIssuedAt), s.d.Time(u.TokenExpiresAt), s.d.NoTime(), u.Identity)
	if s.d.IsUniqueViolation(err) {
		return "", huella.Errorf(huella.ECONFLICT, "user name or token taken")
	} else if err != nil {
		return "", s.errorf("create user", err)
	}
	return id, s.appendAudit(ctx, tx, huella.NewAuditEvent(ctx, huella.ActionUserCreate, "user/"+id, ""), now)
}

// SignOnUser returns the user of the single sign-on account u.Identity,
// created or brought up to date from u, with the sign-on audited.
func (s *Store) SignOnUser(ctx context.Context, u *huella.User) (*huella.User, error) {
	if u.Identity == "" {
		return nil, huella.Errorf(huella.EINVALID, "a single sign-on user needs an identity")
	}
	now := s.now()
	var out *huella.User
	err := s.db.InWriteTx(ctx, func(tx Tx) error {
		users, err := s.queryUsers(ctx, tx, `WHERE identity = ?`+s.d.Lock("UPDATE"), u.Identity)
		if err != nil {
			return err
		}
		switch {
		case len(users) == 0:
			nu := *u
			if err := prepareUser(&nu, now); err != nil {
				return err
			}
			if nu.ID, err = s.insertUser(ctx, tx, &nu, now); err != nil {
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
					if err := siteExists(ctx, s.d, tx, code); err != nil {
						return err
					}
				}
				if _, err := tx.Exec(ctx, `UPDATE users SET role = ?, sites = ? WHERE id = ?`, string(out.Role), s.d.Strings(out.Sites), out.ID); err != nil {
					return s.errorf("sign on user", err)
				}
				e := huella.NewAuditEvent(ctx, huella.ActionUserUpdate, "user/"+out.ID, "")
				e.Detail = out.AccessDetail()
				if err := s.appendAudit(ctx, tx, e, now); err != nil {
					return err
				}
			}
		}
		return s.appendAudit(ctx, tx, huella.NewAuditEvent(huella.NewContextWithActor(ctx, out), huella.ActionUserSignOn, "user/"+out.ID, ""), now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// siteExists returns EINVALID unless the site is stored.
func siteExists(ctx context.Context, d Dialect, q Querier, code string) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM sites WHERE code = ?`, code).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return huella.Errorf(huella.EINVALID, "unknown site %s", code)
	} else if err != nil {
		return fmt.Errorf("%s: find site: %w", d.Name(), err)
	}
	return nil
}

// FindUserByTokenHash returns the enabled user whose token hashes to hash,
// or EUNAUTHORIZED.
func (s *Store) FindUserByTokenHash(ctx context.Context, hash []byte) (*huella.User, error) {
	users, err := s.queryUsers(ctx, s.db.Read(), `WHERE token_hash = ? AND NOT disabled`, hash)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, huella.Errorf(huella.EUNAUTHORIZED, "unknown or disabled token")
	}
	return users[0], nil
}

// ListUsers returns every user, by name (in byte order).
func (s *Store) ListUsers(ctx context.Context) ([]*huella.User, error) {
	return s.queryUsers(ctx, s.db.Read(), `ORDER BY name`+s.d.ByteOrder())
}

// FindUser returns the user with the ID, or ENOTFOUND.
func (s *Store) FindUser(ctx context.Context, id string) (*huella.User, error) {
	return s.findUser(ctx, s.db.Read(), id)
}

func (s *Store) findUser(ctx context.Context, q Querier, id string) (*huella.User, error) {
	users, err := s.queryUsers(ctx, q, `WHERE id = ?`, id)
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
		`UPDATE users SET token_hash = ?, token_issued_at = ?, token_expires_at = ?, token_used_at = ? WHERE id = ?`,
		hash, s.d.Time(now), s.d.Time(expiresAt), s.d.NoTime(), id)
}

// updateUser runs one UPDATE of a user's row with its audit event, and
// returns the user as it is after.
func (s *Store) updateUser(ctx context.Context, id, action, query string, args ...any) (*huella.User, error) {
	now := s.now()
	var u *huella.User
	err := s.db.InWriteTx(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, query, args...)
		if s.d.IsUniqueViolation(err) {
			return huella.Errorf(huella.ECONFLICT, "token taken")
		} else if err != nil {
			return s.errorf(action, err)
		}
		if n == 0 {
			return huella.Errorf(huella.ENOTFOUND, "user %s not found", id)
		}
		// The console's sessions end with the change that ends them: every
		// one of a disabled user, those signed in with a rotated token.
		// (The console also looks the user up again at every request.)
		switch action {
		case huella.ActionUserDisable:
			_, err = tx.Exec(ctx, `DELETE FROM console_sessions WHERE user_id = ?`, id)
		case huella.ActionUserRotateToken:
			_, err = tx.Exec(ctx, `DELETE FROM console_sessions WHERE user_id = ? AND token_hash IS NOT NULL`, id)
		}
		if err != nil {
			return s.errorf("end sessions", err)
		}
		if u, err = s.findUser(ctx, tx, id); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, huella.NewAuditEvent(ctx, action, "user/"+id, ""), now)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// RecordTokenUse records that the user's token was used at the time.
func (s *Store) RecordTokenUse(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.Write().Exec(ctx, `UPDATE users SET token_used_at = ? WHERE id = ?
		AND (token_used_at IS NULL OR token_used_at < ?)`, s.d.Time(at), id, s.d.Time(at))
	if err != nil {
		return s.errorf("record token use", err)
	}
	return nil
}

func (s *Store) queryUsers(ctx context.Context, q Querier, where string, args ...any) ([]*huella.User, error) {
	rows, err := q.Query(ctx, `SELECT id, name, role, sites, partner, token_hash, disabled, created_at,
		token_issued_at, token_expires_at, token_used_at, identity FROM users `+where, args...)
	if err != nil {
		return nil, s.errorf("users", err)
	}
	defer rows.Close()
	users := []*huella.User{}
	for rows.Next() {
		var u huella.User
		if err := rows.Scan(&u.ID, &u.Name, &u.Role, s.d.ScanStrings(&u.Sites), &u.Partner, &u.TokenHash, &u.Disabled,
			s.d.ScanTime(&u.CreatedAt, false), s.d.ScanTime(&u.TokenIssuedAt, false), s.d.ScanTime(&u.TokenExpiresAt, false),
			s.d.ScanTime(&u.TokenUsedAt, true), &u.Identity); err != nil {
			return nil, s.errorf("users", err)
		}
		u.Sites = nilIfEmpty(u.Sites)
		users = append(users, &u)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("users", err)
	}
	return users, nil
}
