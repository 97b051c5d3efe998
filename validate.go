package baldur

import (
	"fmt"
	"path"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxIDLength is the longest id, config type or cluster name, in bytes.
const MaxIDLength = 256

// DefaultLockTimeout is the lock timeout used when AcquireConfigLock or
// ExtendConfigLock is given 0.
const DefaultLockTimeout = 30 * time.Minute

// ValidateID checks an id, config type or cluster name: non-empty, at most
// MaxIDLength bytes, valid UTF-8, no '/', no control characters. kind names
// the argument in the error ("rollout id", "config type", ...).
func ValidateID(kind, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalidArgument, kind)
	case len(id) > MaxIDLength:
		return fmt.Errorf("%w: %s is %d bytes, the limit is %d", ErrInvalidArgument, kind, len(id), MaxIDLength)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: %s %q is not valid UTF-8", ErrInvalidArgument, kind, id)
	}
	for i, r := range id {
		if r == '/' {
			return fmt.Errorf("%w: %s %q contains '/' at byte %d", ErrInvalidArgument, kind, id, i)
		}
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: %s %q contains control character %U at byte %d", ErrInvalidArgument, kind, id, r, i)
		}
	}
	return nil
}

// ValidateTTL checks that a record TTL is positive.
func ValidateTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("%w: ttl %v is not positive", ErrInvalidArgument, ttl)
	}
	return nil
}

// LockTimeout resolves a lock timeout or extension: 0 means
// DefaultLockTimeout, a negative one is ErrInvalidArgument.
func LockTimeout(d time.Duration) (time.Duration, error) {
	switch {
	case d < 0:
		return 0, fmt.Errorf("%w: lock timeout %v is negative", ErrInvalidArgument, d)
	case d == 0:
		return DefaultLockTimeout, nil
	default:
		return d, nil
	}
}

// ValidatePattern checks a FindCompleted glob (path.Match syntax).
func ValidatePattern(pattern string) error {
	if pattern == "" {
		return fmt.Errorf("%w: pattern is empty (use \"*\" for all)", ErrInvalidArgument)
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return fmt.Errorf("%w: pattern %q: %v", ErrInvalidArgument, pattern, err)
	}
	return nil
}

// MatchID reports whether id matches a pattern already checked by
// ValidatePattern.
func MatchID(pattern, id string) bool {
	ok, _ := path.Match(pattern, id)
	return ok
}
