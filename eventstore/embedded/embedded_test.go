package embedded_test

import (
	"testing"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded"
	"github.com/kefu-crm/kefu/eventstore/storetest"
)

func open(t testing.TB, dir string) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) eventstore.Store {
		return open(t, dir)
	})
}
