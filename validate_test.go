package baldur_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/baldur-go/baldur"
)

func TestValidateID(t *testing.T) {
	cases := []struct {
		name string
		id   string
		ok   bool
	}{
		{"simple", "rollout-1", true},
		{"one byte", "a", true},
		{"spaces and dots", "my config.v2", true},
		{"unicode", "ünïcödé-日本", true},
		{"emoji", "🚀", true},
		{"exactly 256 bytes", strings.Repeat("x", 256), true},
		{"256 bytes of two-byte runes", strings.Repeat("é", 128), true},
		{"backslash is fine", `a\b`, true},
		{"empty", "", false},
		{"257 bytes", strings.Repeat("x", 257), false},
		{"258 bytes of two-byte runes", strings.Repeat("é", 129), false},
		{"slash", "a/b", false},
		{"only a slash", "/", false},
		{"leading slash", "/a", false},
		{"trailing slash", "a/", false},
		{"NUL", "a\x00b", false},
		{"newline", "a\nb", false},
		{"tab", "a\tb", false},
		{"carriage return", "a\r", false},
		{"escape", "\x1b[31m", false},
		{"DEL", "a\x7f", false},
		{"C1 control NEL", "a\u0085b", false},
		{"invalid UTF-8 byte", "a\xffb", false},
		{"truncated multibyte", "\xe6\x97", false},
		{"overlong encoding", "\xc0\xaf", false},
		{"surrogate half", "\xed\xa0\x80", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := baldur.ValidateID("rollout id", c.id)
			if c.ok {
				if err != nil {
					t.Fatalf("ValidateID(%q) = %v, want nil", c.id, err)
				}
				return
			}
			if !errors.Is(err, baldur.ErrInvalidArgument) {
				t.Fatalf("ValidateID(%q) = %v, want ErrInvalidArgument", c.id, err)
			}
			if !strings.Contains(err.Error(), "rollout id") {
				t.Fatalf("error %q does not name the kind", err)
			}
		})
	}
}

// idIsValid is the contract's definition, written independently of
// ValidateID: non-empty, at most 256 bytes, UTF-8, no '/', no control
// characters.
func idIsValid(id string) bool {
	if id == "" || len(id) > baldur.MaxIDLength || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if r == '/' || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"a", "", "a/b", "\x00", strings.Repeat("x", 256), strings.Repeat("x", 257), "\xff", "é", "\u0085", "🚀/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := baldur.ValidateID("id", id)
		if err == nil {
			if id == "" || len(id) > 256 || strings.Contains(id, "/") || !utf8.ValidString(id) {
				t.Fatalf("accepted %q", id)
			}
			for _, r := range id {
				if unicode.IsControl(r) {
					t.Fatalf("accepted %q with control character %U", id, r)
				}
			}
		} else if !errors.Is(err, baldur.ErrInvalidArgument) {
			t.Fatalf("rejected %q with %v, not ErrInvalidArgument", id, err)
		}
		if want := idIsValid(id); (err == nil) != want {
			t.Fatalf("ValidateID(%q) = %v, but the contract says valid=%v", id, err, want)
		}
	})
}

func TestValidateTTL(t *testing.T) {
	for _, d := range []time.Duration{time.Nanosecond, time.Second, 2 * time.Second, 7 * 24 * time.Hour} {
		if err := baldur.ValidateTTL(d); err != nil {
			t.Errorf("ValidateTTL(%v) = %v", d, err)
		}
	}
	for _, d := range []time.Duration{0, -time.Nanosecond, -time.Hour} {
		if err := baldur.ValidateTTL(d); !errors.Is(err, baldur.ErrInvalidArgument) {
			t.Errorf("ValidateTTL(%v) = %v, want ErrInvalidArgument", d, err)
		}
	}
}

func TestLockTimeout(t *testing.T) {
	cases := []struct {
		in   time.Duration
		want time.Duration
		ok   bool
	}{
		{0, 30 * time.Minute, true},
		{time.Nanosecond, time.Nanosecond, true},
		{5 * time.Second, 5 * time.Second, true},
		{2 * time.Hour, 2 * time.Hour, true},
		{-time.Nanosecond, 0, false},
		{-time.Minute, 0, false},
	}
	for _, c := range cases {
		got, err := baldur.LockTimeout(c.in)
		if c.ok && (err != nil || got != c.want) {
			t.Errorf("LockTimeout(%v) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if !c.ok && !errors.Is(err, baldur.ErrInvalidArgument) {
			t.Errorf("LockTimeout(%v) = %v, %v; want ErrInvalidArgument", c.in, got, err)
		}
	}
	if baldur.DefaultLockTimeout != 30*time.Minute {
		t.Errorf("DefaultLockTimeout = %v", baldur.DefaultLockTimeout)
	}
}

func TestValidatePatternAndMatchID(t *testing.T) {
	for _, p := range []string{"*", "roll-*", "a?c", "[a-z]*", `\*`, "exact"} {
		if err := baldur.ValidatePattern(p); err != nil {
			t.Errorf("ValidatePattern(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", "[", "[a-", `\`, "a[", "[]"} {
		if err := baldur.ValidatePattern(p); !errors.Is(err, baldur.ErrInvalidArgument) {
			t.Errorf("ValidatePattern(%q) = %v, want ErrInvalidArgument", p, err)
		}
	}
	matches := []struct {
		pattern, id string
		want        bool
	}{
		{"*", "anything", true},
		{"*", "", true},
		{"roll-*", "roll-1", true},
		{"roll-*", "rollout", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{`\*`, "*", true},
		{`\*`, "a", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
	}
	for _, m := range matches {
		if got := baldur.MatchID(m.pattern, m.id); got != m.want {
			t.Errorf("MatchID(%q, %q) = %v, want %v", m.pattern, m.id, got, m.want)
		}
	}
}
