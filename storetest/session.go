package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

// SessionStore is a store that keeps console sessions and rate limits.
type SessionStore interface {
	huella.Store
	huella.SessionStore
}

// NewSessionStore returns a fresh store for one subtest whose clock is now.
type NewSessionStore func(t *testing.T, now func() time.Time) SessionStore

// RunSessions runs the SessionStore contract: sessions found by their ID
// (stored hashed), touched, ended, swept once expired, ended with their
// user's disabling or token's rotation; counters that count in their
// window, start again in the next, and count right under concurrent
// callers (several API nodes).
func RunSessions(t *testing.T, newStore NewSessionStore) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := t0
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	set := func(t time.Time) { mu.Lock(); defer mu.Unlock(); clock = t }

	t.Run("Sessions", func(t *testing.T) {
		set(t0)
		s := newStore(t, now)
		ctx := Context()
		u := User("maria.lopez", huella.RoleSupervisor, "token-maria")
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		sess := &huella.Session{ID: "session-one", UserID: u.ID, TokenHash: u.TokenHash, CSRF: "csrf-one",
			Private: []byte("sealed"), StartedAt: t0, SeenAt: t0}
		if err := s.CreateSession(ctx, sess, t0.Add(-time.Hour), t0.Add(-time.Hour)); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		got, err := s.FindSession(ctx, "session-one")
		if err != nil {
			t.Fatalf("FindSession: %v", err)
		}
		equal(t, "FindSession", got, sess)
		if _, err := s.FindSession(ctx, "session-two"); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Errorf("FindSession(unknown) = %v, want ENOTFOUND", err)
		}
		t1 := t0.Add(5 * time.Minute)
		if err := s.TouchSession(ctx, "session-one", t1, nil); err != nil {
			t.Fatalf("TouchSession: %v", err)
		}
		if got, _ := s.FindSession(ctx, "session-one"); !got.SeenAt.Equal(t1) || !bytes.Equal(got.Private, []byte("sealed")) {
			t.Errorf("after a touch: seen %v private %q, want %v and the data kept", got.SeenAt, got.Private, t1)
		}
		if err := s.TouchSession(ctx, "session-one", t1, []byte{}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.FindSession(ctx, "session-one"); got.Private != nil {
			t.Errorf("after clearing: private %q, want nil", got.Private)
		}
		if err := s.TouchSession(ctx, "session-two", t1, nil); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Errorf("TouchSession(unknown) = %v, want ENOTFOUND", err)
		}
		// A later sign-in sweeps the sessions idle too long.
		sso := &huella.Session{ID: "session-sso", UserID: u.ID, CSRF: "csrf-sso", StartedAt: t1, SeenAt: t1}
		if err := s.CreateSession(ctx, sso, t1.Add(-time.Minute), t0.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.FindSession(ctx, "session-sso"); err != nil || got.TokenHash != nil {
			t.Errorf("single sign-on session: %+v, %v; want no token hash", got, err)
		}
		t2 := t1.Add(time.Hour)
		if err := s.CreateSession(ctx, &huella.Session{ID: "session-three", UserID: u.ID, CSRF: "c", StartedAt: t2, SeenAt: t2},
			t2.Add(-30*time.Minute), t2.Add(-12*time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"session-one", "session-sso"} {
			if _, err := s.FindSession(ctx, id); huella.ErrorCode(err) != huella.ENOTFOUND {
				t.Errorf("an expired session (%s) outlived the sweep: %v", id, err)
			}
		}
		if err := s.DeleteSession(ctx, "session-three"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FindSession(ctx, "session-three"); huella.ErrorCode(err) != huella.ENOTFOUND {
			t.Errorf("a deleted session: %v", err)
		}
		if err := s.DeleteSession(ctx, "session-three"); err != nil {
			t.Errorf("deleting a session twice: %v", err)
		}
		if err := s.CreateSession(ctx, &huella.Session{ID: "x", UserID: u.ID}, t0, t0); huella.ErrorCode(err) != huella.EINVALID {
			t.Errorf("a session without a CSRF token: %v, want EINVALID", err)
		}
	})
	t.Run("EndedWithUser", func(t *testing.T) {
		set(t0)
		s := newStore(t, now)
		ctx := Context()
		u := User("maria.lopez", huella.RoleSupervisor, "token-maria")
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		open := func(id string, token []byte) {
			t.Helper()
			if err := s.CreateSession(ctx, &huella.Session{ID: id, UserID: u.ID, TokenHash: token, CSRF: "c", StartedAt: t0, SeenAt: t0},
				t0.Add(-time.Hour), t0.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		alive := func(id string) bool {
			_, err := s.FindSession(ctx, id)
			return err == nil
		}
		open("by-token", u.TokenHash)
		open("by-sso", nil)
		hash := sha256.Sum256([]byte("token-maria-2"))
		if _, err := s.RotateToken(ctx, u.ID, hash[:], t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if alive("by-token") || !alive("by-sso") {
			t.Errorf("after a rotation: token session alive %v (want false), sign-on session alive %v (want true)", alive("by-token"), alive("by-sso"))
		}
		open("by-token-2", hash[:])
		if _, err := s.SetUserDisabled(ctx, u.ID, true); err != nil {
			t.Fatal(err)
		}
		if alive("by-token-2") || alive("by-sso") {
			t.Error("a disabled user's sessions outlived the disabling")
		}
	})
	t.Run("RateLimits", func(t *testing.T) {
		set(t0.Add(time.Second))
		s := newStore(t, now)
		ctx := context.Background()
		const window = 15 * time.Minute
		for i := 1; i <= 3; i++ {
			n, err := s.CountAttempt(ctx, "signin:192.0.2.7", window)
			if err != nil || n != i {
				t.Fatalf("CountAttempt #%d = %d, %v", i, n, err)
			}
		}
		if n, err := s.Attempts(ctx, "signin:192.0.2.7", window); err != nil || n != 3 {
			t.Errorf("Attempts = %d, %v; want 3", n, err)
		}
		if n, err := s.Attempts(ctx, "signin:192.0.2.8", window); err != nil || n != 0 {
			t.Errorf("Attempts(another key) = %d, %v; want 0", n, err)
		}
		set(t0.Add(window + time.Second)) // the next window
		if n, err := s.Attempts(ctx, "signin:192.0.2.7", window); err != nil || n != 0 {
			t.Errorf("Attempts in the next window = %d, %v; want 0", n, err)
		}
		if n, err := s.CountAttempt(ctx, "signin:192.0.2.7", window); err != nil || n != 1 {
			t.Errorf("CountAttempt in the next window = %d, %v; want 1", n, err)
		}
		if _, err := s.CountAttempt(ctx, "k", 0); huella.ErrorCode(err) != huella.EINVALID {
			t.Errorf("CountAttempt with no window: %v, want EINVALID", err)
		}
		// Callers at once (API nodes) lose no count.
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for range 40 {
			wg.Go(func() {
				if _, err := s.CountAttempt(ctx, "signin:198.51.100.1", window); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent CountAttempt: %v", err)
		}
		if n, err := s.Attempts(ctx, "signin:198.51.100.1", window); err != nil || n != 40 {
			t.Errorf("after 40 concurrent counts: %d, %v", n, err)
		}
	})
}
