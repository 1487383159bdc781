package exchange

import (
	"fmt"

	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// Types are the event types an import accepts and an export knows how to
// treat: each type's current schema version, a constructor to validate
// data against, and whether it carries personal data.
type Types struct {
	m map[string]typeInfo
}

type typeInfo struct {
	name     string // the type's name, shared by every record of it
	version  int
	newFn    func() any
	personal bool
}

// NewTypes builds Types from codec spec lists (the ones the data
// directory's codec is built from).
func NewTypes(lists ...[]codec.Spec) (*Types, error) {
	t := &Types{m: make(map[string]typeInfo)}
	for _, l := range lists {
		for _, s := range l {
			if s.Type == "" || s.New == nil || s.Version < 1 {
				return nil, fmt.Errorf("%w: spec %q is incomplete", ErrInvalidOptions, s.Type)
			}
			if _, dup := t.m[s.Type]; dup {
				return nil, fmt.Errorf("%w: type %q given twice", ErrInvalidOptions, s.Type)
			}
			_, personal := s.New().(codec.Personal)
			t.m[s.Type] = typeInfo{name: s.Type, version: s.Version, newFn: s.New, personal: personal}
		}
	}
	return t, nil
}

// DefaultTypes are every customer-stream and campaign-stream event type.
func DefaultTypes() *Types {
	t, err := NewTypes(append(codec.SpecsOf(customer.Events()), codec.SpecsOf(campaign.Events())...))
	if err != nil { // the domain's lists are fixed: cannot happen
		panic(err)
	}
	return t
}

// Known reports whether name is a known event type.
func (t *Types) Known(name string) bool { _, ok := t.m[name]; return ok }
