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
	// Store is the center's store: the sites' users, what it holds of
	// their encounters, and the downstream feeds.
	Store CenterStore

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
	enrolled := &huella.CentralIdentification{State: huella.CentralIdentified, Decision: huella.DecisionNewSubject,
		SubjectID: got.SubjectID, EncounterID: got.ID}
	id := got.Identification
	if id != nil {
		enrolled.Decision, enrolled.Hits = id.Decision, len(id.Hits)
	}
	if id == nil || len(id.Hits) == 0 && id.Decision != huella.DecisionReview {
		// Nothing for an examiner: the answer stands as enrolled (a later
		// merge of its subject reaches the site downstream).
		return enrolled, nil
	}
	// As it stands now: a retry after an examiner decided gets the decision.
	now, err := c.central(ctx, got)
	if now == nil && err == nil {
		return enrolled, nil // purged meanwhile: its purge item follows
	}
	return now, err
}

// CenterStore is what the center reads and writes for its sites.
type CenterStore interface {
	huella.Store
	ListHits(ctx context.Context, f huella.HitFilter) ([]*huella.Hit, error)
	SiteDownstream(ctx context.Context, site string, after int64, limit int) ([]huella.DownstreamItem, error)
	WatchChanges(ctx context.Context, after int64, limit int) ([]*huella.WatchChange, error)
}

// CentralState returns the center's identification of a site's encounter
// as it stands now (its examiners' decisions and merges applied), or nil
// when the center does not hold it (purged).
func (c *Center) CentralState(ctx context.Context, site, siteEncounterID string) (*huella.CentralIdentification, error) {
	actor, err := c.siteUser(ctx, site)
	if err != nil {
		return nil, err
	}
	ctx = huella.NewContextWithPurpose(ctx, huella.PurposeEnforcement)
	e, err := c.Store.FindEncounterByIdempotencyKey(ctx, actor.ID, "site:"+siteEncounterID)
	if huella.ErrorCode(err) == huella.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return c.central(ctx, e)
}

// central is the identification of the center's encounter e now: the
// subject it belongs to after merges, the hits still pending, and the
// decision those leave. A duplicate confirmed by an examiner makes it
// linked; every duplicate rejected makes a review a new subject.
func (c *Center) central(ctx context.Context, e *huella.Encounter) (*huella.CentralIdentification, error) {
	central := &huella.CentralIdentification{State: huella.CentralIdentified, Decision: huella.DecisionNewSubject,
		SubjectID: e.SubjectID, EncounterID: e.ID}
	if e.Identification != nil {
		central.Decision = e.Identification.Decision
	}
	subject, err := c.Store.FindSubject(ctx, e.SubjectID)
	if huella.ErrorCode(err) == huella.ENOTFOUND {
		return nil, nil // purged meanwhile: its purge item follows
	} else if err != nil {
		return nil, err
	}
	if subject.MergedInto != "" {
		central.SubjectID = subject.MergedInto
	}
	hits, err := c.Store.ListHits(ctx, huella.HitFilter{SubjectID: e.SubjectID, State: huella.HitPending, Limit: 1000})
	if err != nil {
		return nil, err
	}
	duplicates := 0
	for _, h := range hits {
		if h.EncounterID == e.ID {
			central.Hits++
			if h.Kind == huella.HitDuplicate {
				duplicates++
			}
		}
	}
	switch {
	case duplicates > 0:
		central.Decision = huella.DecisionReview
	case central.SubjectID != e.SubjectID:
		central.Decision = huella.DecisionLinked
	case central.Decision == huella.DecisionReview:
		central.Decision = huella.DecisionNewSubject
	}
	return central, nil
}

// Downstream is the hub's DownstreamSource: the site's items from the
// store, a DownstreamCentral one with the center's identification now.
func (c *Center) Downstream(ctx context.Context, site string, after int64, limit int) ([]huella.DownstreamItem, error) {
	items, err := c.Store.SiteDownstream(ctx, site, after, limit)
	if err != nil {
		return nil, err
	}
	for i := range items {
		if items[i].Kind == huella.DownstreamCentral {
			if items[i].Central, err = c.CentralState(ctx, site, items[i].EncounterID); err != nil {
				return nil, err
			}
		}
	}
	return items, nil
}

// siteUser returns the center's user of the site, made the first time.
func (c *Center) siteUser(ctx context.Context, site string) (*huella.User, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u := c.users[site]; u != nil {
		return u, nil
	}
	ctx = huella.NewContextWithPurpose(ctx, huella.PurposeAdministration)
	users, err := c.Store.ListUsers(ctx)
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
		if err := c.Store.CreateUser(ctx, user); err != nil {
			return nil, err
		}
	}
	if c.users == nil {
		c.users = make(map[string]*huella.User)
	}
	c.users[site] = user
	return user, nil
}
