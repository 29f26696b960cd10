package sitelink

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"sync"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/enroll"
)

// Center enrolls the encounters sites send: each as the site's own user
// ("site-mx-tij", an officer of that site alone, whose token is never
// issued to anyone), with the site's encounter ID as idempotency key, so
// that an encounter sent twice is enrolled once and the retry is answered
// with the first decision.
type Center struct {
	Enroll *enroll.Service
	Users  huella.Store // where the sites' users are kept

	mu    sync.Mutex
	users map[string]*huella.User
}

// SiteUserName is the name of the center's user that enrolls a site's
// encounters.
func SiteUserName(site string) string { return "site-" + strings.ToLower(site) }

// Receive is a Handler: it enrolls the site's encounter at the center.
func (c *Center) Receive(ctx context.Context, site string, u *Upload) (*huella.CentralIdentification, error) {
	e := u.Encounter
	if e.SiteCode != site {
		return nil, huella.Errorf(huella.EFORBIDDEN, "site %s may send only its own encounters", site)
	}
	actor, err := c.siteUser(ctx, site)
	if err != nil {
		return nil, err
	}
	key := "site:" + e.ID
	// The center decides for itself: nothing the site made is kept but
	// what was captured (every ID, link and search result is the site's).
	e.ID, e.SubjectID, e.Officer, e.OriginalRef = "", "", "", ""
	e.Identification, e.Central, e.CreatedAt = nil, nil, time.Time{}
	for _, smp := range e.Samples {
		smp.ID, smp.ImageRef, smp.Template, smp.Quality = "", "", nil, nil
	}
	for _, m := range e.SMTs {
		m.ID, m.SampleID = "", ""
	}
	ctx = huella.NewContextWithActor(huella.NewContextWithPurpose(ctx, huella.PurposeEnforcement), actor)
	got, err := c.Enroll.Enroll(ctx, &enroll.Request{Encounter: e, Images: u.Images, IdempotencyKey: key})
	if err != nil {
		return nil, err
	}
	central := &huella.CentralIdentification{State: huella.CentralIdentified, Decision: huella.DecisionNewSubject,
		SubjectID: got.SubjectID, EncounterID: got.ID}
	if id := got.Identification; id != nil {
		central.Decision, central.Hits = id.Decision, len(id.Hits)
	}
	return central, nil
}

// siteUser returns the center's user of the site, made the first time.
func (c *Center) siteUser(ctx context.Context, site string) (*huella.User, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u := c.users[site]; u != nil {
		return u, nil
	}
	ctx = huella.NewContextWithPurpose(ctx, huella.PurposeAdministration)
	users, err := c.Users.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	var user *huella.User
	for _, u := range users {
		if u.Name == SiteUserName(site) {
			user = u
		}
	}
	if user == nil {
		secret := make([]byte, 32)
		rand.Read(secret)
		hash := sha256.Sum256(secret) // a token nobody holds
		user = &huella.User{Name: SiteUserName(site), Role: huella.RoleOfficer, Sites: []string{site},
			TokenHash: hash[:], Disabled: true}
		if err := c.Users.CreateUser(ctx, user); err != nil {
			return nil, err
		}
	}
	if c.users == nil {
		c.users = make(map[string]*huella.User)
	}
	c.users[site] = user
	return user, nil
}
