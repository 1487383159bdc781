package server_test

import (
	"testing"

	"github.com/kefu-crm/kefu/graphql"
)

// `kefu schema` (graphql.SchemaSDL, no store) prints exactly the schema the
// real server serves.
func TestSchemaSDLIsWhatTheServerServes(t *testing.T) {
	h := startServer(t, options{})
	served, err := graphql.PrintSDL(h.srv.Schema())
	if err != nil {
		t.Fatal(err)
	}
	printed, err := graphql.SchemaSDL()
	if err != nil {
		t.Fatal(err)
	}
	if served != printed {
		t.Errorf("kefu schema differs from the server's schema")
	}
}
