package baldur_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/baldur-go/baldur"
)

func TestHeaderIdentityResolver(t *testing.T) {
	ctx := context.Background()
	var r baldur.AdminIdentityResolver = baldur.HeaderIdentityResolver{}
	cases := []struct {
		header  string
		trusted bool
		want    string // "" means nil principal
	}{
		{"alice", false, ""}, // untrusted: nil, always
		{"  alice  ", false, ""},
		{"", false, ""},
		{"alice", true, "alice"},
		{"  bob\t", true, "bob"},
		{"carol smith", true, "carol smith"},
		{"", true, ""}, // blank: nil, never a blank principal
		{"   ", true, ""},
		{"\t\n\r ", true, ""},
		{"\u00a0\u2003", true, ""}, // Unicode spaces are blank too
	}
	for _, c := range cases {
		p, err := r.Resolve(ctx, c.header, c.trusted)
		if err != nil {
			t.Fatalf("Resolve(%q, %v): %v", c.header, c.trusted, err)
		}
		switch {
		case c.want == "" && p != nil:
			t.Errorf("Resolve(%q, %v) = %q, want nil", c.header, c.trusted, p.Username())
		case c.want != "" && (p == nil || p.Username() != c.want):
			t.Errorf("Resolve(%q, %v) = %v, want %q", c.header, c.trusted, p, c.want)
		}
	}
}

func TestNewAdminPrincipal(t *testing.T) {
	if p := baldur.NewAdminPrincipal(" \t"); p != nil {
		t.Fatalf("blank username gave %#v, want nil", p)
	}
	if p := baldur.NewAdminPrincipal(""); p != nil {
		t.Fatalf("empty username gave %#v, want nil", p)
	}
	p := baldur.NewAdminPrincipal(" ops ")
	if p == nil || p.Username() != "ops" {
		t.Fatalf("NewAdminPrincipal = %#v", p)
	}
}

func TestActor(t *testing.T) {
	if got := baldur.Actor(nil); got != "anonymous" {
		t.Fatalf("Actor(nil) = %q, want anonymous", got)
	}
	if baldur.AnonymousActor != "anonymous" {
		t.Fatalf("AnonymousActor = %q", baldur.AnonymousActor)
	}
	if got := baldur.Actor(baldur.NewAdminPrincipal("alice")); got != "alice" {
		t.Fatalf("Actor(alice) = %q", got)
	}
	// A blank header from a trusted caller degrades to anonymous.
	p, _ := baldur.HeaderIdentityResolver{}.Resolve(context.Background(), "  ", true)
	if got := baldur.Actor(p); got != "anonymous" {
		t.Fatalf("Actor(blank) = %q", got)
	}
}

// TestAdminPrincipalIsImmutable: no exported field to assign and no method
// but the getter, so a principal cannot change after it is made.
func TestAdminPrincipalIsImmutable(t *testing.T) {
	typ := reflect.TypeFor[baldur.AdminPrincipal]()
	for i := range typ.NumField() {
		if typ.Field(i).IsExported() {
			t.Errorf("AdminPrincipal has exported field %s", typ.Field(i).Name)
		}
	}
	ptr := reflect.TypeFor[*baldur.AdminPrincipal]()
	for i := range ptr.NumMethod() {
		if m := ptr.Method(i); m.Name != "Username" {
			t.Errorf("AdminPrincipal has method %s besides Username", m.Name)
		}
	}
}
