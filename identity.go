package baldur

import (
	"context"
	"strings"
)

// AnonymousActor is how an action without a principal is attributed.
const AnonymousActor = "anonymous"

// AdminPrincipal is an authenticated admin operator. It is immutable: the
// username is fixed when the principal is made.
type AdminPrincipal struct {
	username string
}

// NewAdminPrincipal returns a principal for username, trimmed of spaces; a
// blank username yields nil, never a blank principal.
func NewAdminPrincipal(username string) *AdminPrincipal {
	u := strings.TrimSpace(username)
	if u == "" {
		return nil
	}
	return &AdminPrincipal{username: u}
}

// Username returns the operator's name.
func (p *AdminPrincipal) Username() string { return p.username }

// Actor names who performed an action for audit records: the principal's
// username, or AnonymousActor for nil.
func Actor(p *AdminPrincipal) string {
	if p == nil {
		return AnonymousActor
	}
	return p.username
}

// AdminIdentityResolver turns a forwarded identity header into a principal.
// It must fail closed: an untrusted caller (trusted == false) always gets nil,
// and an empty or whitespace-only header gets nil.
type AdminIdentityResolver interface {
	Resolve(ctx context.Context, header string, trusted bool) (*AdminPrincipal, error)
}

// HeaderIdentityResolver is the plain resolver: for a trusted caller the
// header's trimmed value is the username.
type HeaderIdentityResolver struct{}

var _ AdminIdentityResolver = HeaderIdentityResolver{}

// Resolve implements AdminIdentityResolver.
func (HeaderIdentityResolver) Resolve(_ context.Context, header string, trusted bool) (*AdminPrincipal, error) {
	if !trusted {
		return nil, nil
	}
	return NewAdminPrincipal(header), nil
}
