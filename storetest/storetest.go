// Package storetest holds the contract suite every huella.Store must pass,
// and the fixtures it builds records from. Each implementation runs it from
// its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) huella.Store { return MustOpen(t) })
//	}
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huella-abis/huella"
)

// NewStore returns a fresh, empty store for one subtest; it closes the
// store in t.Cleanup.
type NewStore func(t *testing.T) huella.Store

// Run runs the Store contract suite, one subtest per behaviour, each on a
// store of its own from newStore. Beyond the interface's documentation it
// holds stores to what callers rely on: times come back in UTC at
// microsecond precision, a failed change stores nothing (no record and no
// audit event), and list methods return an empty list rather than nil, so
// that every store encodes alike.
func Run(t *testing.T, newStore NewStore) {
	// The groups run in parallel, each on stores of its own: a server
	// store spends most of a group waiting on the network and the disk.
	for _, group := range []struct {
		name string
		test func(*testing.T, NewStore)
	}{
		{"Ping", testPing},
		{"Sites", testSites},
		{"Users", testUsers},
		{"Encounters", testEncounters},
		{"Idempotency", testIdempotency},
		{"ListEncounters", testListEncounters},
		{"EncounterStats", testEncounterStats},
		{"Audit", testAudit},
		{"Concurrency", testConcurrency},
	} {
		t.Run(group.name, func(t *testing.T) {
			t.Parallel()
			group.test(t, newStore)
		})
	}
}

func testPing(t *testing.T, newStore NewStore) {
	if err := newStore(t).Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testSites(t *testing.T, newStore NewStore) {
	t.Run("OK", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		for _, code := range []string{"MX-TAP", "GT-ESC", "MX-TIJ"} {
			site := Site(code)
			if err := s.CreateSite(ctx, site); err != nil {
				t.Fatalf("CreateSite(%s): %v", code, err)
			}
			checkStoredTime(t, "CreatedAt", site.CreatedAt)
			got, err := s.FindSite(ctx, code)
			if err != nil {
				t.Fatalf("FindSite(%s): %v", code, err)
			}
			equal(t, "FindSite", got, site)
		}
		sites, err := s.ListSites(ctx)
		if err != nil {
			t.Fatalf("ListSites: %v", err)
		}
		if empty, err := newStore(t).ListSites(ctx); err != nil || empty == nil {
			t.Errorf("ListSites of an empty store = %v, %v; want an empty list, not nil", empty, err)
		}
		var codes []string
		for _, site := range sites {
			codes = append(codes, site.Code)
		}
		equal(t, "ListSites codes", codes, []string{"GT-ESC", "MX-TAP", "MX-TIJ"})
		checkLastEvent(t, s, huella.ActionSiteCreate, "site/MX-TIJ", "MX-TIJ")
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		s := newStore(t)
		for name, mutate := range map[string]func(*huella.Site){
			"Code":     func(s *huella.Site) { s.Code = "tapachula" },
			"Name":     func(s *huella.Site) { s.Name = "" },
			"Country":  func(s *huella.Site) { s.Country = "MX" },
			"TimeZone": func(s *huella.Site) { s.TimeZone = "Mexico/Nowhere" },
		} {
			t.Run(name, func(t *testing.T) {
				site := Site("MX-TAP")
				mutate(site)
				before := countRecords(t, s)
				checkCode(t, s.CreateSite(Context(), site), huella.EINVALID)
				equal(t, "records", countRecords(t, s), before)
			})
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		s := newStore(t)
		MustCreateSite(t, s, "MX-TAP")
		before := countRecords(t, s)
		checkCode(t, s.CreateSite(Context(), Site("MX-TAP")), huella.ECONFLICT)
		equal(t, "records", countRecords(t, s), before)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		_, err := s.FindSite(Context(), "MX-TAP")
		checkCode(t, err, huella.ENOTFOUND)
	})
}

func testUsers(t *testing.T, newStore NewStore) {
	t.Run("OK", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		MustCreateSite(t, s, "MX-TAP")
		MustCreateSite(t, s, "MX-TIJ")
		users := []*huella.User{
			User("maria.lopez", huella.RoleOfficer, "token-maria", "MX-TAP", "MX-TIJ"),
			User("admin", huella.RoleAdmin, "token-admin"),
			User("guatemala-pnc", huella.RolePartner, "token-partner"),
		}
		users[2].Partner = "GT-PNC"
		for _, u := range users {
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatalf("CreateUser(%s): %v", u.Name, err)
			}
			if !strings.HasPrefix(u.ID, "usr_") {
				t.Errorf("ID = %q, want prefix usr_", u.ID)
			}
			checkStoredTime(t, "CreatedAt", u.CreatedAt)
			checkLastEvent(t, s, huella.ActionUserCreate, "user/"+u.ID, "")
		}
		for _, u := range users {
			got, err := s.FindUserByTokenHash(ctx, u.TokenHash)
			if err != nil {
				t.Fatalf("FindUserByTokenHash(%s): %v", u.Name, err)
			}
			equal(t, "FindUserByTokenHash", got, u)
		}
		list, err := s.ListUsers(ctx)
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		equal(t, "ListUsers", list, []*huella.User{users[1], users[2], users[0]})
		if empty, err := newStore(t).ListUsers(ctx); err != nil || empty == nil {
			t.Errorf("ListUsers of an empty store = %v, %v; want an empty list, not nil", empty, err)
		}
	})
	t.Run("ErrUnauthorized", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		disabled := User("old.officer", huella.RoleSupervisor, "token-old")
		disabled.Disabled = true
		MustCreateUser(t, s, disabled)
		MustCreateUser(t, s, User("admin", huella.RoleAdmin, "token-admin"))
		for name, hash := range map[string][]byte{
			"Unknown":  huella.HashToken("token-nobody"),
			"Disabled": disabled.TokenHash,
			"Empty":    nil,
		} {
			t.Run(name, func(t *testing.T) {
				_, err := s.FindUserByTokenHash(ctx, hash)
				checkCode(t, err, huella.EUNAUTHORIZED)
			})
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		s := newStore(t)
		MustCreateSite(t, s, "MX-TAP")
		for name, u := range map[string]*huella.User{
			"Name":        User("María", huella.RoleAdmin, "t1"),
			"Role":        User("someone", huella.Role("root"), "t2"),
			"Sites":       User("officer", huella.RoleOfficer, "t3"),
			"UnknownSite": User("officer", huella.RoleOfficer, "t4", "MX-TAP", "MX-XXX"),
			"TokenHash":   {Name: "admin", Role: huella.RoleAdmin},
		} {
			t.Run(name, func(t *testing.T) {
				before := countRecords(t, s)
				checkCode(t, s.CreateUser(Context(), u), huella.EINVALID)
				equal(t, "records", countRecords(t, s), before)
			})
		}
	})
	t.Run("Tokens", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		u := User("admin", huella.RoleAdmin, "token-admin")
		MustCreateUser(t, s, u)
		other := User("auditor", huella.RoleAuditor, "token-auditor")
		MustCreateUser(t, s, other)
		if !u.TokenIssuedAt.Equal(u.CreatedAt) || !u.TokenExpiresAt.Equal(u.CreatedAt.Add(huella.DefaultTokenLifetime)) || !u.TokenUsedAt.IsZero() {
			t.Errorf("new token issued %v, expires %v, used %v: want issued at creation for %v, never used",
				u.TokenIssuedAt, u.TokenExpiresAt, u.TokenUsedAt, huella.DefaultTokenLifetime)
		}
		got, err := s.FindUser(ctx, u.ID)
		if err != nil {
			t.Fatalf("FindUser: %v", err)
		}
		equal(t, "FindUser", got, u)
		_, err = s.FindUser(ctx, "usr_NOBODY")
		checkCode(t, err, huella.ENOTFOUND)

		used := Date(2026, 12, 7, 10)
		for _, at := range []time.Time{used, used.Add(-time.Hour)} { // an older use does not go back
			if err := s.RecordTokenUse(ctx, u.ID, at); err != nil {
				t.Fatalf("RecordTokenUse: %v", err)
			}
		}
		if got, _ := s.FindUser(ctx, u.ID); !got.TokenUsedAt.Equal(used) {
			t.Errorf("TokenUsedAt = %v, want %v", got.TokenUsedAt, used)
		}
		if err := s.RecordTokenUse(ctx, "usr_NOBODY", used); err != nil {
			t.Errorf("RecordTokenUse of an unknown user: %v, want nil", err)
		}

		newHash := huella.HashToken("token-admin-2")
		expires := time.Now().Add(30 * 24 * time.Hour)
		rotated, err := s.RotateToken(ctx, u.ID, newHash, expires)
		if err != nil {
			t.Fatalf("RotateToken: %v", err)
		}
		checkStoredTime(t, "TokenIssuedAt", rotated.TokenIssuedAt)
		if !bytes.Equal(rotated.TokenHash, newHash) || !rotated.TokenExpiresAt.Equal(expires.UTC().Truncate(time.Microsecond)) ||
			!rotated.TokenUsedAt.IsZero() {
			t.Errorf("rotated: hash %x expires %v used %v", rotated.TokenHash, rotated.TokenExpiresAt, rotated.TokenUsedAt)
		}
		checkLastEvent(t, s, huella.ActionUserRotateToken, "user/"+u.ID, "")
		_, err = s.FindUserByTokenHash(ctx, u.TokenHash)
		checkCode(t, err, huella.EUNAUTHORIZED)
		if got, err := s.FindUserByTokenHash(ctx, newHash); err != nil {
			t.Errorf("the rotated token: %v", err)
		} else {
			equal(t, "FindUserByTokenHash after rotation", got, rotated)
		}
		before := countRecords(t, s)
		_, err = s.RotateToken(ctx, u.ID, other.TokenHash, expires)
		checkCode(t, err, huella.ECONFLICT)
		_, err = s.RotateToken(ctx, u.ID, huella.HashToken("token-admin-3"), time.Now().Add(-time.Minute))
		checkCode(t, err, huella.EINVALID)
		_, err = s.RotateToken(ctx, "usr_NOBODY", huella.HashToken("token-admin-3"), expires)
		checkCode(t, err, huella.ENOTFOUND)
		equal(t, "records after refused rotations", countRecords(t, s), before)

		disabled, err := s.SetUserDisabled(ctx, u.ID, true)
		if err != nil || !disabled.Disabled {
			t.Fatalf("SetUserDisabled(true) = %+v, %v", disabled, err)
		}
		checkLastEvent(t, s, huella.ActionUserDisable, "user/"+u.ID, "")
		_, err = s.FindUserByTokenHash(ctx, newHash)
		checkCode(t, err, huella.EUNAUTHORIZED)
		if enabled, err := s.SetUserDisabled(ctx, u.ID, false); err != nil || enabled.Disabled {
			t.Fatalf("SetUserDisabled(false) = %+v, %v", enabled, err)
		}
		checkLastEvent(t, s, huella.ActionUserEnable, "user/"+u.ID, "")
		if _, err := s.FindUserByTokenHash(ctx, newHash); err != nil {
			t.Errorf("the token of a re-enabled user: %v", err)
		}
		_, err = s.SetUserDisabled(ctx, "usr_NOBODY", true)
		checkCode(t, err, huella.ENOTFOUND)
	})
	t.Run("SignOn", func(t *testing.T) {
		s := newStore(t)
		// The console signs people on before it knows who they are: no actor.
		ctx := huella.NewContextWithPurpose(context.Background(), huella.PurposeAdministration)
		MustCreateSite(t, s, "MX-TAP")
		MustCreateSite(t, s, "MX-TIJ")
		identity := huella.SignOnIdentity("https://idp.example.org", "s-ana")
		signOn := func(name string, role huella.Role, sites ...string) (*huella.User, error) {
			u := User(name, role, "sso-"+name+string(role), sites...)
			u.Identity = identity
			return s.SignOnUser(ctx, u)
		}
		lastEvents := func(n int) []*huella.AuditEvent {
			events := auditEvents(t, s)
			checkChain(t, events)
			return events[len(events)-n:]
		}
		first, err := signOn("ana.ruiz", huella.RoleOfficer, "MX-TAP")
		if err != nil {
			t.Fatalf("first SignOnUser: %v", err)
		}
		if !strings.HasPrefix(first.ID, "usr_") || first.Identity != identity || first.Name != "ana.ruiz" || first.Role != huella.RoleOfficer {
			t.Fatalf("first sign-on made %+v", first)
		}
		events := lastEvents(2)
		checkEvent(t, events[0], huella.ActionUserCreate, "user/"+first.ID, "")
		checkEvent(t, events[1], huella.ActionUserSignOn, "user/"+first.ID, "")
		if events[0].Actor != "system" || events[1].Actor != first.ID || events[1].Role != huella.RoleOfficer {
			t.Errorf("created by %s, signed on by %s (%s); want system, then the user", events[0].Actor, events[1].Actor, events[1].Role)
		}
		if got, err := s.FindUser(ctx, first.ID); err != nil {
			t.Fatalf("FindUser: %v", err)
		} else {
			equal(t, "FindUser", got, first)
		}

		again, err := signOn("ana.ruiz", huella.RoleOfficer, "MX-TAP")
		if err != nil {
			t.Fatalf("second SignOnUser: %v", err)
		}
		equal(t, "second sign-on", again, first)
		checkEvent(t, lastEvents(1)[0], huella.ActionUserSignOn, "user/"+first.ID, "")

		moved, err := signOn("ana.r", huella.RoleExaminer, "MX-TAP", "MX-TIJ")
		if err != nil {
			t.Fatalf("SignOnUser with a new role: %v", err)
		}
		if moved.ID != first.ID || moved.Name != "ana.ruiz" || moved.Role != huella.RoleExaminer || len(moved.Sites) != 2 {
			t.Errorf("after the provider moved her: %+v, want the same user, examiner at 2 sites", moved)
		}
		events = lastEvents(2)
		checkEvent(t, events[0], huella.ActionUserUpdate, "user/"+first.ID, "")
		checkEvent(t, events[1], huella.ActionUserSignOn, "user/"+first.ID, "")
		if got, _ := s.FindUser(ctx, first.ID); got.Role != huella.RoleExaminer {
			t.Errorf("stored role %s, want examiner", got.Role)
		}
		if list, _ := s.ListUsers(ctx); len(list) != 1 {
			t.Errorf("%d users, want 1", len(list))
		}

		if _, err := s.SetUserDisabled(Context(), first.ID, true); err != nil {
			t.Fatal(err)
		}
		before := countRecords(t, s)
		disabled, err := signOn("ana.ruiz", huella.RoleSupervisor)
		if err != nil || !disabled.Disabled || disabled.Role != huella.RoleExaminer {
			t.Errorf("sign-on of a disabled user = %+v, %v; want it disabled and unchanged", disabled, err)
		}
		equal(t, "records after a disabled user's sign-on", countRecords(t, s), before)

		MustCreateUser(t, s, User("admin", huella.RoleAdmin, "token-admin"))
		for name, tc := range map[string]struct {
			u    *huella.User
			code string
		}{
			"ErrNameTaken":   {&huella.User{Name: "admin", Role: huella.RoleAdmin, TokenHash: huella.HashToken("x1"), Identity: "https://idp.example.org s-other"}, huella.ECONFLICT},
			"ErrNoIdentity":  {User("bea", huella.RoleAuditor, "x2"), huella.EINVALID},
			"ErrUnknownSite": {&huella.User{Name: "bea", Role: huella.RoleOfficer, Sites: []string{"MX-XXX"}, TokenHash: huella.HashToken("x3"), Identity: "https://idp.example.org s-bea"}, huella.EINVALID},
			"ErrNeedsSite":   {&huella.User{Name: "bea", Role: huella.RoleOfficer, TokenHash: huella.HashToken("x4"), Identity: "https://idp.example.org s-bea"}, huella.EINVALID},
		} {
			t.Run(name, func(t *testing.T) {
				before := countRecords(t, s)
				_, err := s.SignOnUser(ctx, tc.u)
				checkCode(t, err, tc.code)
				equal(t, "records", countRecords(t, s), before)
			})
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		s := newStore(t)
		MustCreateUser(t, s, User("admin", huella.RoleAdmin, "token-admin"))
		for name, u := range map[string]*huella.User{
			"Name":  User("admin", huella.RoleAuditor, "token-other"),
			"Token": User("auditor", huella.RoleAuditor, "token-admin"),
		} {
			t.Run(name, func(t *testing.T) {
				before := countRecords(t, s)
				checkCode(t, s.CreateUser(Context(), u), huella.ECONFLICT)
				equal(t, "records", countRecords(t, s), before)
			})
		}
	})
}

func testEncounters(t *testing.T, newStore NewStore) {
	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		MustCreateSite(t, s, "MX-TAP")
		in := RichEncounter("MX-TAP", Date(2026, 3, 14, 9))
		wantAt := in.CapturedAt.UTC().Truncate(time.Microsecond)
		if err := s.CreateEncounter(ctx, in); err != nil {
			t.Fatalf("CreateEncounter: %v", err)
		}
		checkIDs(t, in)
		checkStoredTime(t, "CapturedAt", in.CapturedAt)
		checkStoredTime(t, "CreatedAt", in.CreatedAt)
		if !in.CapturedAt.Equal(wantAt) {
			t.Errorf("CapturedAt = %v, want %v", in.CapturedAt, wantAt)
		}
		if got, want := in.SMTs[0].SampleID, in.Samples[13].ID; got != want {
			t.Errorf("SMTs[0].SampleID = %q, want the photo's %q", got, want)
		}
		if got := in.SMTs[1].SampleID; got != "" {
			t.Errorf("SMTs[1].SampleID = %q, want none", got)
		}
		checkLastEvent(t, s, huella.ActionEncounterCreate, "encounter/"+in.ID, "MX-TAP")

		got, err := s.FindEncounter(ctx, in.ID)
		if err != nil {
			t.Fatalf("FindEncounter: %v", err)
		}
		equal(t, "FindEncounter", got, in)

		sample, enc, err := s.FindSample(ctx, in.Samples[13].ID)
		if err != nil {
			t.Fatalf("FindSample: %v", err)
		}
		equal(t, "FindSample sample", sample, in.Samples[13])
		if enc.ID != in.ID || enc.SiteCode != "MX-TAP" || enc.SubjectID != in.SubjectID || len(enc.Samples) != 0 {
			t.Errorf("FindSample encounter = %s at %s of %s with %d samples, want %s at MX-TAP of %s without samples",
				enc.ID, enc.SiteCode, enc.SubjectID, len(enc.Samples), in.ID, in.SubjectID)
		}
	})
	t.Run("FingerAbsences", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		MustCreateSite(t, s, "MX-TAP")
		// Given out of position order: the store keeps the order given.
		in := EncounterWithout("MX-TAP", Date(2026, 3, 14, 9),
			huella.FingerAbsence{Position: huella.FingerLeftLittle, Reason: huella.AbsenceAmputated},
			huella.FingerAbsence{Position: huella.FingerRightRing, Reason: huella.AbsenceUnprintable})
		MustCreateEncounter(t, s, in)
		// A later encounter of the same person with every finger printed
		// (the bandage came off) has no absences of its own.
		again := Encounter("MX-TAP", Date(2026, 3, 20, 9))
		again.SubjectID = in.SubjectID
		MustCreateEncounter(t, s, again)

		got, err := s.FindEncounter(ctx, in.ID)
		if err != nil {
			t.Fatalf("FindEncounter: %v", err)
		}
		equal(t, "FindEncounter", got, in)
		equal(t, "FindEncounter finger absences", got.FingerAbsences, []huella.FingerAbsence{
			{Position: 10, Reason: huella.AbsenceAmputated}, {Position: 4, Reason: huella.AbsenceUnprintable}})
		list, err := s.ListEncounters(ctx, huella.EncounterFilter{SubjectID: in.SubjectID})
		if err != nil {
			t.Fatalf("ListEncounters: %v", err)
		}
		equal(t, "ListEncounters", list, []*huella.Encounter{again, in})
		subject, err := s.FindSubject(ctx, in.SubjectID)
		if err != nil {
			t.Fatalf("FindSubject: %v", err)
		}
		equal(t, "FindSubject encounters", subject.Encounters, []*huella.Encounter{in, again})
		_, enc, err := s.FindSample(ctx, in.Samples[0].ID)
		if err != nil {
			t.Fatalf("FindSample: %v", err)
		}
		equal(t, "FindSample encounter finger absences", enc.FingerAbsences, in.FingerAbsences)
	})
	t.Run("Subjects", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		MustCreateSite(t, s, "MX-TAP")
		MustCreateSite(t, s, "MX-TIJ")
		first := MustCreateEncounter(t, s, Encounter("MX-TIJ", Date(2026, 5, 2, 8)))
		other := MustCreateEncounter(t, s, Encounter("MX-TAP", Date(2026, 5, 3, 8)))
		if first.SubjectID == other.SubjectID {
			t.Fatalf("two encounters without SubjectID share subject %s, want a new subject each", first.SubjectID)
		}
		// The repeat encounter comes first in time: the subject lists by capture.
		again := Encounter("MX-TAP", Date(2026, 4, 1, 8))
		again.SubjectID = first.SubjectID
		MustCreateEncounter(t, s, again)
		if again.SubjectID != first.SubjectID {
			t.Errorf("SubjectID = %s, want the linked %s", again.SubjectID, first.SubjectID)
		}
		subject, err := s.FindSubject(ctx, first.SubjectID)
		if err != nil {
			t.Fatalf("FindSubject: %v", err)
		}
		if subject.ID != first.SubjectID || subject.MergedInto != "" {
			t.Errorf("subject = %s merged into %q, want %s unmerged", subject.ID, subject.MergedInto, first.SubjectID)
		}
		checkStoredTime(t, "subject CreatedAt", subject.CreatedAt)
		equal(t, "FindSubject encounters", subject.Encounters, []*huella.Encounter{again, first})
	})
	t.Run("ErrUnknownSite", func(t *testing.T) {
		s := newStore(t)
		MustCreateSite(t, s, "MX-TAP")
		before := countRecords(t, s)
		checkCode(t, s.CreateEncounter(Context(), Encounter("MX-TIJ", Date(2026, 5, 2, 8))), huella.EINVALID)
		equal(t, "records", countRecords(t, s), before)
	})
	t.Run("ErrUnknownSubject", func(t *testing.T) {
		s := newStore(t)
		MustCreateSite(t, s, "MX-TAP")
		MustCreateEncounter(t, s, Encounter("MX-TAP", Date(2026, 5, 1, 8)))
		e := Encounter("MX-TAP", Date(2026, 5, 2, 8))
		e.SubjectID = huella.NewID("sub_", time.Now())
		before := countRecords(t, s)
		checkCode(t, s.CreateEncounter(Context(), e), huella.ENOTFOUND)
		equal(t, "records", countRecords(t, s), before)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		s := newStore(t)
		MustCreateSite(t, s, "MX-TAP")
		for name, mutate := range map[string]func(*huella.Encounter){
			"NoSamples":     func(e *huella.Encounter) { e.Samples = nil },
			"Future":        func(e *huella.Encounter) { e.CapturedAt = time.Now().Add(time.Hour) },
			"Nationality":   func(e *huella.Encounter) { e.Biographics.Nationality = "XYZ" },
			"DuplicateSlot": func(e *huella.Encounter) { e.Samples[1].Position = e.Samples[0].Position },
			"SMTSampleIndex": func(e *huella.Encounter) {
				i := 0
				e.SMTs = []*huella.SMT{{Type: huella.SMTScar, Code: "SC R HND", SampleIndex: &i}}
			},
			"AbsentFingerWithSample": func(e *huella.Encounter) {
				e.FingerAbsences = []huella.FingerAbsence{{Position: e.Samples[3].Position, Reason: huella.AbsenceAmputated}}
			},
			"FingerAbsentTwice": func(e *huella.Encounter) {
				*e = *EncounterWithout(e.SiteCode, e.CapturedAt,
					huella.FingerAbsence{Position: 4, Reason: huella.AbsenceAmputated},
					huella.FingerAbsence{Position: 4, Reason: huella.AbsenceUnprintable})
			},
			"AbsenceReason": func(e *huella.Encounter) {
				*e = *EncounterWithout(e.SiteCode, e.CapturedAt, huella.FingerAbsence{Position: 4, Reason: "XX"})
			},
		} {
			t.Run(name, func(t *testing.T) {
				e := Encounter("MX-TAP", Date(2026, 5, 2, 8))
				mutate(e)
				before := countRecords(t, s)
				checkCode(t, s.CreateEncounter(Context(), e), huella.EINVALID)
				equal(t, "records", countRecords(t, s), before)
			})
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		MustCreateSite(t, s, "MX-TAP")
		e := MustCreateEncounter(t, s, Encounter("MX-TAP", Date(2026, 5, 1, 8)))
		_, err := s.FindEncounter(ctx, huella.NewID("enc_", time.Now()))
		checkCode(t, err, huella.ENOTFOUND)
		_, err = s.FindSubject(ctx, e.ID) // an encounter's ID names no subject
		checkCode(t, err, huella.ENOTFOUND)
		_, _, err = s.FindSample(ctx, huella.NewID("smp_", time.Now()))
		checkCode(t, err, huella.ENOTFOUND)
	})
}

// scene is the small world the list and stats tests query: three sites,
// five encounters over three months, one subject seen three times.
type scene struct {
	store      huella.Store
	encounters []*huella.Encounter // e1 … e5, oldest first
	subject    string              // the subject of e1, e2 and e5
}

func newScene(t *testing.T, s huella.Store) *scene {
	t.Helper()
	for _, code := range []string{"MX-TAP", "MX-TIJ", "GT-ESC"} {
		MustCreateSite(t, s, code)
	}
	cst := time.FixedZone("CST", -6*3600)
	e1 := Encounter("MX-TAP", Date(2026, 1, 10, 10))
	// e2 is on 31 January at the site but 1 February in UTC: months are UTC.
	e2 := Encounter("MX-TIJ", time.Date(2026, 1, 31, 20, 0, 0, 0, cst))
	e3 := Encounter("MX-TAP", Date(2026, 2, 20, 0))
	e3.Biographics.Nationality = "MEX"
	e4 := Encounter("GT-ESC", Date(2026, 3, 1, 0))
	e4.Biographics.Nationality = ""
	e5 := Encounter("MX-TAP", Date(2026, 3, 15, 12))
	// Names and documents for the name search: e2 has an alias, e2 and
	// e4 the same document number written two ways; e3 and e5 keep the
	// fixture's "Ana Lucía Pérez Gómez".
	e1.Biographics.Names = []huella.Name{{Given: "María José", Family: "Méndez López"}}
	e2.Biographics.Names = []huella.Name{{Given: "Maria", Family: "Mendez"}, {Given: "Rosa", Family: "Pérez"}}
	e2.Biographics.Documents = []huella.Document{{Type: "passport", Number: "G-123 4567", Country: "GTM"}}
	e4.Biographics.Names = []huella.Name{{Given: "José", Family: "Mendoza"}}
	e4.Biographics.Documents = []huella.Document{{Type: "national-id", Number: "g1234567"}}
	sc := &scene{store: s, encounters: []*huella.Encounter{e1, e2, e3, e4, e5}}
	MustCreateEncounter(t, s, e1)
	sc.subject = e1.SubjectID
	e2.SubjectID, e5.SubjectID = sc.subject, sc.subject
	for _, e := range sc.encounters[1:] {
		MustCreateEncounter(t, s, e)
	}
	return sc
}

func testListEncounters(t *testing.T, newStore NewStore) {
	s := newStore(t)
	sc := newScene(t, s)
	cases := []struct {
		name   string
		filter huella.EncounterFilter
		want   []int // encounter numbers, newest first
	}{
		{"All", huella.EncounterFilter{}, []int{5, 4, 3, 2, 1}},
		{"Site", huella.EncounterFilter{Sites: []string{"MX-TAP"}}, []int{5, 3, 1}},
		{"Sites", huella.EncounterFilter{Sites: []string{"MX-TIJ", "MX-TAP"}}, []int{5, 3, 2, 1}},
		{"UnknownSite", huella.EncounterFilter{Sites: []string{"MX-XXX"}}, nil},
		{"Subject", huella.EncounterFilter{SubjectID: sc.subject}, []int{5, 2, 1}},
		{"SiteAndSubject", huella.EncounterFilter{Sites: []string{"MX-TAP"}, SubjectID: sc.subject}, []int{5, 1}},
		{"From", huella.EncounterFilter{From: Date(2026, 2, 20, 0)}, []int{5, 4, 3}},
		{"To", huella.EncounterFilter{To: Date(2026, 2, 20, 0)}, []int{2, 1}},
		{"FromTo", huella.EncounterFilter{From: Date(2026, 2, 1, 0), To: Date(2026, 3, 1, 0)}, []int{3, 2}},
		{"SiteFromTo", huella.EncounterFilter{Sites: []string{"MX-TAP"}, From: Date(2026, 1, 1, 0), To: Date(2026, 3, 1, 0)}, []int{3, 1}},
		{"Limit", huella.EncounterFilter{Limit: 2}, []int{5, 4}},
		{"LimitOffset", huella.EncounterFilter{Limit: 2, Offset: 2}, []int{3, 2}},
		{"Offset", huella.EncounterFilter{Offset: 4}, []int{1}},
		{"OffsetPastEnd", huella.EncounterFilter{Offset: 10}, nil},
		{"LimitOverMax", huella.EncounterFilter{Limit: 5000}, []int{5, 4, 3, 2, 1}},
		{"Name", huella.EncounterFilter{Name: "mendez"}, []int{2, 1}},
		{"NameAccents", huella.EncounterFilter{Name: "MÉNDEZ"}, []int{2, 1}},
		{"NamePrefixes", huella.EncounterFilter{Name: "ma mend"}, []int{2, 1}},
		{"NameAnyOrder", huella.EncounterFilter{Name: "lopez maria"}, []int{1}},
		{"NameAlias", huella.EncounterFilter{Name: "perez"}, []int{5, 3, 2}},
		{"NameWordsOfOneName", huella.EncounterFilter{Name: "rosa mendez"}, nil},
		{"NameNotInside", huella.EncounterFilter{Name: "endez"}, nil},
		{"NameAndSite", huella.EncounterFilter{Name: "perez", Sites: []string{"MX-TAP"}}, []int{5, 3}},
		{"NameLimit", huella.EncounterFilter{Name: "perez", Limit: 1, Offset: 1}, []int{3}},
		{"Document", huella.EncounterFilter{Document: "G1234567"}, []int{4, 2}},
		{"DocumentPunctuated", huella.EncounterFilter{Document: "g 123-4567"}, []int{4, 2}},
		{"DocumentUnknown", huella.EncounterFilter{Document: "G1234568"}, nil},
		{"NameAndDocument", huella.EncounterFilter{Name: "jose", Document: "G1234567"}, []int{4}},
		{"After", huella.EncounterFilter{After: sc.pageKey(4)}, []int{3, 2, 1}},
		{"AfterLimit", huella.EncounterFilter{After: sc.pageKey(5), Limit: 2}, []int{4, 3}},
		{"AfterLast", huella.EncounterFilter{After: sc.pageKey(1)}, nil},
		{"AfterSite", huella.EncounterFilter{Sites: []string{"MX-TAP"}, After: sc.pageKey(4)}, []int{3, 1}},
		{"AfterName", huella.EncounterFilter{Name: "perez", After: sc.pageKey(5)}, []int{3, 2}},
		// A cursor whose encounter is gone (purged) still places the page.
		{"AfterGone", huella.EncounterFilter{After: &huella.PageKey{At: sc.encounters[3].CapturedAt, ID: "enc_"}}, []int{3, 2, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListEncounters(Context(), tc.filter)
			if err != nil {
				t.Fatalf("ListEncounters: %v", err)
			}
			if got == nil {
				t.Fatalf("got nil, want a list (empty, not nil, so that every store encodes alike)")
			}
			want := []*huella.Encounter{}
			for _, n := range tc.want {
				want = append(want, sc.encounters[n-1])
			}
			if len(got) != len(want) {
				t.Fatalf("got %s, want %s", sc.names(got), sc.names(want))
			}
			equal(t, "ListEncounters", got, want)
		})
	}
	for name, f := range map[string]huella.EncounterFilter{
		"ErrNegativeLimit":  {Limit: -1},
		"ErrNegativeOffset": {Offset: -1},
		"ErrToBeforeFrom":   {From: Date(2026, 3, 1, 0), To: Date(2026, 2, 1, 0)},
		"ErrNameNoWord":     {Name: " -- "},
		"ErrNameTooLong":    {Name: "a b c d e f g h i"},
		"ErrDocumentNoKey":  {Document: "--"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.ListEncounters(Context(), f)
			checkCode(t, err, huella.EINVALID)
		})
	}
	t.Run("DefaultLimit", func(t *testing.T) {
		s := newStore(t)
		MustCreateSite(t, s, "MX-TAP")
		for i := range 101 {
			e := Encounter("MX-TAP", Date(2026, 1, 1, 0).Add(time.Duration(i)*time.Minute))
			e.Samples = e.Samples[:1]
			MustCreateEncounter(t, s, e)
		}
		got, err := s.ListEncounters(Context(), huella.EncounterFilter{})
		if err != nil {
			t.Fatalf("ListEncounters: %v", err)
		}
		if len(got) != 100 {
			t.Errorf("got %d encounters, want the default limit of 100", len(got))
		}
	})
}

// pageKey returns the cursor of the scene's encounter n (1-based).
func (sc *scene) pageKey(n int) *huella.PageKey {
	e := sc.encounters[n-1]
	return &huella.PageKey{At: e.CapturedAt, ID: e.ID}
}

// names returns "e5 e3 …" for encounters of the scene, for messages.
func (sc *scene) names(list []*huella.Encounter) string {
	var out []string
	for _, e := range list {
		n := slices.IndexFunc(sc.encounters, func(x *huella.Encounter) bool { return x.ID == e.ID })
		out = append(out, fmt.Sprintf("e%d", n+1))
	}
	return "[" + strings.Join(out, " ") + "]"
}

func testEncounterStats(t *testing.T, newStore NewStore) {
	s := newStore(t)
	subject := newScene(t, s).subject
	cases := []struct {
		name   string
		filter huella.EncounterFilter
		want   huella.EncounterStats
	}{
		{"All", huella.EncounterFilter{}, huella.EncounterStats{
			Total:         5,
			BySite:        map[string]int{"MX-TAP": 3, "MX-TIJ": 1, "GT-ESC": 1},
			ByNationality: map[string]int{"GTM": 3, "MEX": 1, "": 1},
			ByMonth:       map[string]int{"2026-01": 1, "2026-02": 2, "2026-03": 2},
		}},
		{"Sites", huella.EncounterFilter{Sites: []string{"MX-TAP", "MX-TIJ"}}, huella.EncounterStats{
			Total:         4,
			BySite:        map[string]int{"MX-TAP": 3, "MX-TIJ": 1},
			ByNationality: map[string]int{"GTM": 3, "MEX": 1},
			ByMonth:       map[string]int{"2026-01": 1, "2026-02": 2, "2026-03": 1},
		}},
		{"FromTo", huella.EncounterFilter{From: Date(2026, 2, 1, 0), To: Date(2026, 3, 2, 0), Limit: 1}, huella.EncounterStats{
			Total:         3,
			BySite:        map[string]int{"MX-TAP": 1, "MX-TIJ": 1, "GT-ESC": 1},
			ByNationality: map[string]int{"GTM": 1, "MEX": 1, "": 1},
			ByMonth:       map[string]int{"2026-02": 2, "2026-03": 1},
		}},
		// Filters that do not fall on whole UTC days, or name a subject,
		// count the encounters themselves rather than per-day totals.
		{"Subject", huella.EncounterFilter{SubjectID: subject}, huella.EncounterStats{
			Total:         3,
			BySite:        map[string]int{"MX-TAP": 2, "MX-TIJ": 1},
			ByNationality: map[string]int{"GTM": 3},
			ByMonth:       map[string]int{"2026-01": 1, "2026-02": 1, "2026-03": 1},
		}},
		{"FromHour", huella.EncounterFilter{From: Date(2026, 3, 1, 1)}, huella.EncounterStats{
			Total:         1,
			BySite:        map[string]int{"MX-TAP": 1},
			ByNationality: map[string]int{"GTM": 1},
			ByMonth:       map[string]int{"2026-03": 1},
		}},
		{"ToHour", huella.EncounterFilter{Sites: []string{"MX-TIJ", "GT-ESC"}, To: Date(2026, 2, 1, 3)}, huella.EncounterStats{
			Total:         1,
			BySite:        map[string]int{"MX-TIJ": 1},
			ByNationality: map[string]int{"GTM": 1},
			ByMonth:       map[string]int{"2026-02": 1},
		}},
		{"Name", huella.EncounterFilter{Name: "perez"}, huella.EncounterStats{
			Total:         3,
			BySite:        map[string]int{"MX-TAP": 2, "MX-TIJ": 1},
			ByNationality: map[string]int{"GTM": 2, "MEX": 1},
			ByMonth:       map[string]int{"2026-02": 2, "2026-03": 1},
		}},
		{"None", huella.EncounterFilter{Sites: []string{"MX-XXX"}}, huella.EncounterStats{
			BySite: map[string]int{}, ByNationality: map[string]int{}, ByMonth: map[string]int{},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.EncounterStats(Context(), tc.filter)
			if err != nil {
				t.Fatalf("EncounterStats: %v", err)
			}
			equal(t, "EncounterStats", got, &tc.want)
		})
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := s.EncounterStats(Context(), huella.EncounterFilter{From: Date(2026, 3, 1, 0), To: Date(2026, 2, 1, 0)})
		checkCode(t, err, huella.EINVALID)
	})
}

func testAudit(t *testing.T, newStore NewStore) {
	t.Run("OneEventPerChange", func(t *testing.T) {
		s := newStore(t)
		ctx := huella.NewContextWithPurpose(huella.NewContextWithActor(context.Background(),
			&huella.User{ID: "usr_00000000000000000000000OFF", Role: huella.RoleOfficer}), huella.PurposeEnforcement)
		var linked string
		steps := []struct {
			name   string
			change func() (object string, err error)
			code   string // "" when the change succeeds
			action string
			site   string
		}{
			{"CreateSite", func() (string, error) { return "site/MX-TAP", s.CreateSite(ctx, Site("MX-TAP")) }, "", huella.ActionSiteCreate, "MX-TAP"},
			{"CreateSiteErrConflict", func() (string, error) { return "", s.CreateSite(ctx, Site("MX-TAP")) }, huella.ECONFLICT, "", ""},
			{"CreateUser", func() (string, error) {
				u := User("officer", huella.RoleOfficer, "token", "MX-TAP")
				err := s.CreateUser(ctx, u)
				return "user/" + u.ID, err
			}, "", huella.ActionUserCreate, ""},
			{"CreateUserErrInvalid", func() (string, error) {
				return "", s.CreateUser(ctx, User("officer2", huella.RoleOfficer, "token2", "MX-XXX"))
			}, huella.EINVALID, "", ""},
			{"CreateEncounter", func() (string, error) {
				e := Encounter("MX-TAP", Date(2026, 6, 1, 8))
				err := s.CreateEncounter(ctx, e)
				linked = e.SubjectID
				return "encounter/" + e.ID, err
			}, "", huella.ActionEncounterCreate, "MX-TAP"},
			{"CreateEncounterLinked", func() (string, error) {
				e := RichEncounter("MX-TAP", Date(2026, 6, 2, 8))
				e.SubjectID = linked
				err := s.CreateEncounter(ctx, e)
				return "encounter/" + e.ID, err
			}, "", huella.ActionEncounterCreate, "MX-TAP"},
			{"CreateEncounterErrNotFound", func() (string, error) {
				e := Encounter("MX-TAP", Date(2026, 6, 3, 8))
				e.SubjectID = "sub_NONE"
				return "", s.CreateEncounter(ctx, e)
			}, huella.ENOTFOUND, "", ""},
			{"AppendAudit", func() (string, error) {
				return "encounter/enc_X", s.AppendAudit(ctx, huella.NewAuditEvent(ctx, huella.ActionEncounterRead, "encounter/enc_X", "MX-TAP"))
			}, "", huella.ActionEncounterRead, "MX-TAP"},
			{"AppendAuditErrInvalid", func() (string, error) {
				return "", s.AppendAudit(ctx, huella.NewAuditEvent(ctx, "", "encounter/enc_X", "MX-TAP"))
			}, huella.EINVALID, "", ""},
		}
		for _, step := range steps {
			t.Run(step.name, func(t *testing.T) {
				before := auditEvents(t, s)
				object, err := step.change()
				checkCode(t, err, step.code)
				after := auditEvents(t, s)
				if step.code != "" {
					if len(after) != len(before) {
						t.Fatalf("a failed change wrote %d audit events, want none", len(after)-len(before))
					}
					return
				}
				if len(after) != len(before)+1 {
					t.Fatalf("the change wrote %d audit events, want exactly 1", len(after)-len(before))
				}
				checkEvent(t, after[len(after)-1], step.action, object, step.site)
				if e := after[len(after)-1]; e.Actor != "usr_00000000000000000000000OFF" || e.Role != huella.RoleOfficer || e.Purpose != huella.PurposeEnforcement {
					t.Errorf("event by %s (%s) for %s, want the context's officer for %s", e.Actor, e.Role, e.Purpose, huella.PurposeEnforcement)
				}
			})
		}
		checkChain(t, auditEvents(t, s))
	})
	t.Run("AppendAudit", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		at := time.Date(2026, 7, 1, 10, 30, 0, 123456789, time.FixedZone("CST", -6*3600))
		in := huella.NewAuditEvent(ctx, huella.ActionExport, "subject/sub_X", "MX-TAP")
		in.Time, in.Detail = at, "format=ansi-nist records=1"
		if err := s.AppendAudit(ctx, in); err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
		if in.Seq != 1 || !bytes.Equal(in.PrevHash, make([]byte, sha256.Size)) || !bytes.Equal(in.Hash, in.ComputeHash()) {
			t.Errorf("sealed event seq %d prev %x hash %x, want the first link of the chain", in.Seq, in.PrevHash, in.Hash)
		}
		checkStoredTime(t, "Time", in.Time)
		if !in.Time.Equal(at.Truncate(time.Microsecond)) {
			t.Errorf("Time = %v, want the given %v", in.Time, at)
		}
		now := huella.NewAuditEvent(ctx, huella.ActionAuditRead, "", "")
		if err := s.AppendAudit(ctx, now); err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
		if d := time.Since(now.Time); now.Time.IsZero() || d < -time.Minute || d > time.Minute {
			t.Errorf("Time = %v for an event without one, want the store's now", now.Time)
		}
		equal(t, "ListAuditEvents", auditEvents(t, s), []*huella.AuditEvent{in, now})
	})
	t.Run("ListAuditEvents", func(t *testing.T) {
		s := newStore(t)
		ctx := Context()
		for i := range 7 {
			MustAppendAudit(t, s, huella.NewAuditEvent(ctx, huella.ActionEncounterRead, fmt.Sprintf("encounter/enc_%d", i), ""))
		}
		for _, tc := range []struct {
			after int64
			limit int
			want  []int64
		}{
			{0, 3, []int64{1, 2, 3}},
			{2, 3, []int64{3, 4, 5}},
			{5, 10, []int64{6, 7}},
			{7, 10, nil},
			{0, 0, []int64{1, 2, 3, 4, 5, 6, 7}},
		} {
			t.Run(fmt.Sprintf("After%dLimit%d", tc.after, tc.limit), func(t *testing.T) {
				events, err := s.ListAuditEvents(ctx, tc.after, tc.limit)
				if err != nil {
					t.Fatalf("ListAuditEvents: %v", err)
				}
				if events == nil {
					t.Fatalf("got nil, want a list (empty, not nil)")
				}
				var got []int64
				for _, e := range events {
					got = append(got, e.Seq)
				}
				equal(t, "seqs", got, tc.want)
			})
		}
		t.Run("ErrNegativeLimit", func(t *testing.T) {
			_, err := s.ListAuditEvents(ctx, 0, -1)
			checkCode(t, err, huella.EINVALID)
		})
	})
	t.Run("ConcurrentAppends", func(t *testing.T) {
		s := newStore(t)
		const goroutines, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*each)
		for g := range goroutines {
			wg.Go(func() {
				ctx := Context()
				for i := range each {
					if err := s.AppendAudit(ctx, huella.NewAuditEvent(ctx, huella.ActionEncounterRead, fmt.Sprintf("encounter/enc_%d_%d", g, i), "")); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("AppendAudit: %v", err)
		}
		events := auditEvents(t, s)
		if len(events) != goroutines*each {
			t.Fatalf("got %d events, want %d", len(events), goroutines*each)
		}
		checkChain(t, events)
	})
}

func testConcurrency(t *testing.T, newStore NewStore) {
	s := newStore(t)
	MustCreateSite(t, s, "MX-TAP")
	first := MustCreateEncounter(t, s, Encounter("MX-TAP", Date(2026, 8, 1, 0)))
	const goroutines, each = 6, 4
	var wg sync.WaitGroup
	created := make(chan *huella.Encounter, goroutines*each)
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				e := Encounter("MX-TAP", Date(2026, 8, 2, g).Add(time.Duration(i)*time.Minute))
				if i%2 == 0 {
					e.SubjectID = first.SubjectID
				}
				if err := s.CreateEncounter(Context(), e); err != nil {
					errs <- err
					continue
				}
				created <- e
			}
		})
	}
	wg.Wait()
	close(created)
	close(errs)
	for err := range errs {
		t.Fatalf("CreateEncounter: %v", err)
	}
	for e := range created {
		got, err := s.FindEncounter(Context(), e.ID)
		if err != nil {
			t.Fatalf("FindEncounter: %v", err)
		}
		equal(t, "FindEncounter", got, e)
	}
	subject, err := s.FindSubject(Context(), first.SubjectID)
	if err != nil {
		t.Fatalf("FindSubject: %v", err)
	}
	if got, want := len(subject.Encounters), 1+goroutines*each/2; got != want {
		t.Errorf("subject has %d encounters, want %d", got, want)
	}
	stats, err := s.EncounterStats(Context(), huella.EncounterFilter{})
	if err != nil {
		t.Fatalf("EncounterStats: %v", err)
	}
	if got, want := stats.Total, 1+goroutines*each; got != want {
		t.Errorf("stored %d encounters, want %d", got, want)
	}
	events := auditEvents(t, s)
	if got, want := len(events), 2+goroutines*each; got != want {
		t.Errorf("got %d audit events, want %d", got, want)
	}
	checkChain(t, events)
}

// MustCreateSite stores Site(code) or fails the test.
func MustCreateSite(tb testing.TB, s huella.Store, code string) *huella.Site {
	tb.Helper()
	site := Site(code)
	if err := s.CreateSite(Context(), site); err != nil {
		tb.Fatalf("CreateSite(%s): %v", code, err)
	}
	return site
}

// MustCreateUser stores u or fails the test.
func MustCreateUser(tb testing.TB, s huella.Store, u *huella.User) *huella.User {
	tb.Helper()
	if err := s.CreateUser(Context(), u); err != nil {
		tb.Fatalf("CreateUser(%s): %v", u.Name, err)
	}
	return u
}

// MustCreateEncounter stores e or fails the test.
func MustCreateEncounter(tb testing.TB, s huella.Store, e *huella.Encounter) *huella.Encounter {
	tb.Helper()
	if err := s.CreateEncounter(Context(), e); err != nil {
		tb.Fatalf("CreateEncounter: %v", err)
	}
	return e
}

// MustAppendAudit appends e or fails the test.
func MustAppendAudit(tb testing.TB, s huella.Store, e *huella.AuditEvent) {
	tb.Helper()
	if err := s.AppendAudit(Context(), e); err != nil {
		tb.Fatalf("AppendAudit: %v", err)
	}
}

// records counts what a failed change must leave as it was.
type records struct {
	Sites, Users, Encounters, AuditEvents int
}

func countRecords(tb testing.TB, s huella.Store) records {
	tb.Helper()
	ctx := Context()
	sites, err := s.ListSites(ctx)
	if err != nil {
		tb.Fatalf("ListSites: %v", err)
	}
	users, err := s.ListUsers(ctx)
	if err != nil {
		tb.Fatalf("ListUsers: %v", err)
	}
	stats, err := s.EncounterStats(ctx, huella.EncounterFilter{})
	if err != nil {
		tb.Fatalf("EncounterStats: %v", err)
	}
	return records{len(sites), len(users), stats.Total, len(auditEvents(tb, s))}
}

// auditEvents returns the whole audit chain, page by page.
func auditEvents(tb testing.TB, s huella.Store) []*huella.AuditEvent {
	tb.Helper()
	var all []*huella.AuditEvent
	for {
		var after int64
		if len(all) > 0 {
			after = all[len(all)-1].Seq
		}
		page, err := s.ListAuditEvents(Context(), after, 100)
		if err != nil {
			tb.Fatalf("ListAuditEvents: %v", err)
		}
		all = append(all, page...)
		if len(page) < 100 {
			return all
		}
	}
}

// checkChain checks that events are the whole chain, intact: Seq 1, 2, 3…,
// each PrevHash the Hash before it, each Hash the event's own.
func checkChain(tb testing.TB, events []*huella.AuditEvent) {
	tb.Helper()
	prev := make([]byte, sha256.Size)
	for i, e := range events {
		switch {
		case e.Seq != int64(i+1):
			tb.Fatalf("event %d has Seq %d, want %d", i, e.Seq, i+1)
		case !bytes.Equal(e.PrevHash, prev):
			tb.Fatalf("event %d: PrevHash %x, want the previous Hash %x", e.Seq, e.PrevHash, prev)
		case !bytes.Equal(e.Hash, e.ComputeHash()):
			tb.Fatalf("event %d: Hash %x, want ComputeHash %x", e.Seq, e.Hash, e.ComputeHash())
		}
		prev = e.Hash
	}
}

func checkLastEvent(tb testing.TB, s huella.Store, action, object, site string) {
	tb.Helper()
	events := auditEvents(tb, s)
	if len(events) == 0 {
		tb.Fatalf("no audit event, want %s", action)
	}
	checkChain(tb, events)
	e := events[len(events)-1]
	checkEvent(tb, e, action, object, site)
	if e.Actor != Admin.ID || e.Role != Admin.Role || e.Purpose != huella.PurposeAdministration {
		tb.Errorf("event by %s (%s) for %s, want the context's %s (%s) for %s",
			e.Actor, e.Role, e.Purpose, Admin.ID, Admin.Role, huella.PurposeAdministration)
	}
}

func checkEvent(tb testing.TB, e *huella.AuditEvent, action, object, site string) {
	tb.Helper()
	if e.Action != action || e.Object != object || e.Site != site {
		tb.Errorf("event %s on %q at %q, want %s on %q at %q", e.Action, e.Object, e.Site, action, object, site)
	}
	checkStoredTime(tb, "event Time", e.Time)
}

func checkIDs(tb testing.TB, e *huella.Encounter) {
	tb.Helper()
	check := func(what, id, prefix string) {
		if !strings.HasPrefix(id, prefix) || len(id) != len(prefix)+26 {
			tb.Errorf("%s ID = %q, want %s and 26 characters", what, id, prefix)
		}
	}
	check("encounter", e.ID, "enc_")
	check("subject", e.SubjectID, "sub_")
	for _, s := range e.Samples {
		check("sample", s.ID, "smp_")
	}
	for _, m := range e.SMTs {
		check("SMT", m.ID, "smt_")
	}
}

// checkStoredTime checks that t is set, in UTC, at microsecond precision.
func checkStoredTime(tb testing.TB, name string, t time.Time) {
	tb.Helper()
	if t.IsZero() || t.Location() != time.UTC || !t.Equal(t.Truncate(time.Microsecond)) {
		tb.Errorf("%s = %v, want a time in UTC at microsecond precision", name, t)
	}
}

func checkCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if got := huella.ErrorCode(err); got != want {
		tb.Errorf("error code %q (%v), want %q", got, err, want)
	}
}

// equal fails the test unless got and want are deeply equal, showing both
// as JSON.
func equal(tb testing.TB, what string, got, want any) {
	tb.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	if bytes.Equal(g, w) {
		tb.Errorf("%s: got and want print alike but differ (time zones, nil against empty):\n%s", what, g)
		return
	}
	tb.Errorf("%s:\ngot  %s\nwant %s", what, g, w)
}
