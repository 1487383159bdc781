package memstore_test

import (
	"testing"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/eventstore/storetest"
)

func TestContract(t *testing.T) {
	storetest.RunConfig(t, storetest.Config{
		New: func(t *testing.T, dir string) eventstore.Store {
			return memstore.New(memstore.Options{})
		},
		Ephemeral: true,
	})
}
