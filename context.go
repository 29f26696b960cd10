package huella

import "context"

type contextKey int

const (
	actorKey contextKey = iota
	purposeKey
)

// NewContextWithActor returns a context carrying the authenticated user on
// whose behalf the work is done.
func NewContextWithActor(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, actorKey, u)
}

// ActorFromContext returns the user in ctx, or nil for system work.
func ActorFromContext(ctx context.Context) *User {
	u, _ := ctx.Value(actorKey).(*User)
	return u
}

// NewContextWithPurpose returns a context carrying the purpose of the work.
func NewContextWithPurpose(ctx context.Context, p Purpose) context.Context {
	return context.WithValue(ctx, purposeKey, p)
}

// PurposeFromContext returns the purpose in ctx, or "" if none was given.
func PurposeFromContext(ctx context.Context) Purpose {
	p, _ := ctx.Value(purposeKey).(Purpose)
	return p
}

// ActorID returns the ID of the user in ctx, or "system" for work the
// command line or a background loop does on its own.
func ActorID(ctx context.Context) string {
	if u := ActorFromContext(ctx); u != nil {
		return u.ID
	}
	return "system"
}

// NewAuditEvent returns an unsealed audit event for action on object by the
// actor and for the purpose carried in ctx.
func NewAuditEvent(ctx context.Context, action, object, site string) *AuditEvent {
	e := &AuditEvent{Actor: "system", Action: action, Object: object, Site: site, Purpose: PurposeFromContext(ctx)}
	if u := ActorFromContext(ctx); u != nil {
		e.Actor, e.Role = u.ID, u.Role
	}
	return e
}
