package main

import (
	"context"
	"fmt"

	"github.com/kefu-crm/kefu/graphql"
)

const schemaSummary = "print the GraphQL schema kefu serves (SDL), e.g. for code generators: kefu schema > schema.graphql"

// runSchema prints the served schema in SDL. It needs no data directory
// and no running server.
func runSchema(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "schema", "schema   (prints the served GraphQL schema as SDL to stdout)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sdl, err := graphql.SchemaSDL()
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(e.stdout, sdl)
	return err
}
