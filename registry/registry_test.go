package registry

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/config"
)

func TestNewHasNoOpGovernanceDefault(t *testing.T) {
	ctx := context.Background()
	r := New()
	if d := r.Governance.Default(); d != NoOpGovernance {
		t.Fatalf("governance default = %q, want %q", d, NoOpGovernance)
	}
	g, err := r.Governance.Get(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g.(baldur.NoOpGovernanceChecker); !ok {
		t.Fatalf("default governance checker is %T", g)
	}
	res, err := g.CheckAllGovernance(ctx, baldur.GovernanceCheck{})
	if err != nil || !res.Allowed {
		t.Fatalf("no-op checker: %+v, %v", res, err)
	}
}

func TestNewLeavesOtherSlotsEmpty(t *testing.T) {
	ctx := context.Background()
	r := New()
	if p, err := r.AdminIdentity.SafeGet(ctx, ""); p != nil || err != nil {
		t.Fatalf("AdminIdentity.SafeGet = %v, %v; want nil, nil", p, err)
	}
	if _, err := r.DLQ.Get(ctx, ""); !errors.Is(err, baldur.ErrAdapterNotFound) {
		t.Fatalf("DLQ.Get on a new registry: %v", err)
	}
}

// TestSlotsListsEveryField: every slot field takes part in ClearInstances
// and Reset, so adding a slot without listing it fails here.
func TestSlotsListsEveryField(t *testing.T) {
	r := New()
	listed := map[any]bool{}
	for _, s := range r.slots() {
		listed[s] = true
	}
	v := reflect.ValueOf(r).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() {
			continue
		}
		if !listed[f.Interface()] {
			t.Errorf("field %s is not in slots()", v.Type().Field(i).Name)
		}
	}
	if len(listed) != v.NumField() {
		t.Errorf("slots() has %d entries for %d fields", len(listed), v.NumField())
	}
}

func TestRegistryClearInstancesAndReset(t *testing.T) {
	ctx := context.Background()
	r := New()
	calls := 0
	r.Config.Register("dict", func(context.Context) (config.ConfigProvider, error) {
		calls++
		return config.NewDict(map[string]any{"a": 1}), nil
	})
	p1, err := r.Config.Get(ctx, "")
	if err != nil || p1.GetInt("a", 0) != 1 {
		t.Fatalf("Config.Get = %v, %v", p1, err)
	}
	r.ClearInstances()
	p2, err := r.Config.Get(ctx, "")
	if err != nil || p2 == p1 || calls != 2 {
		t.Fatalf("after ClearInstances: %v (same %v), %v, calls %d", p2, p2 == p1, err, calls)
	}
	r.Governance.Register("custom", func(context.Context) (baldur.GovernanceChecker, error) {
		return baldur.NoOpGovernanceChecker{}, nil
	})
	r.Reset()
	if _, err := r.Config.Get(ctx, ""); !errors.Is(err, baldur.ErrAdapterNotFound) {
		t.Fatalf("after Reset Config.Get = %v", err)
	}
	if names := r.Governance.Names(); !reflect.DeepEqual(names, []string{NoOpGovernance}) {
		t.Fatalf("after Reset governance names = %v, want just noop", names)
	}
	if _, err := r.Governance.Get(ctx, ""); err != nil {
		t.Fatal(err)
	}
}

// TestRegistriesAreIndependent: there is no shared global state.
func TestRegistriesAreIndependent(t *testing.T) {
	a, b := New(), New()
	a.Emergency.Register("x", func(context.Context) (baldur.EmergencyManager, error) { return nil, nil })
	if len(b.Emergency.Names()) != 0 {
		t.Fatal("a registration in one registry shows in another")
	}
}
