package graphql_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/kefu-crm/kefu/graphql"
	kefu "github.com/kefu-crm/kefu/server"
)

// ExampleNewHandler builds the schema over kefu's application (here the
// one a server assembles on a fresh data directory) and serves it.
func ExampleNewHandler() {
	dir, err := os.MkdirTemp("", "kefu-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	srv, err := kefu.New(context.Background(), kefu.Config{DataDir: dir})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	<-srv.Ready()
	defer func() {
		cancel()
		<-done
		srv.Close()
	}()

	schema, err := graphql.NewSchema(graphql.Deps{App: srv.App()})
	if err != nil {
		panic(err)
	}
	h, err := graphql.NewHandler(schema, graphql.HandlerConfig{})
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query": "{ customers { totalCount } }"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output: 200 {"data":{"customers":{"totalCount":0}}}
}

// ExampleCheckBind: without --auth only loopback addresses are allowed.
func ExampleCheckBind() {
	for _, addr := range []string{"127.0.0.1:8080", "[::1]:8080", "localhost:8080", "0.0.0.0:8080", ":8080"} {
		err := graphql.CheckBind(addr, false)
		fmt.Println(addr, errors.Is(err, graphql.ErrInsecureBind))
	}
	fmt.Println(graphql.CheckBind("0.0.0.0:8080", true) == nil)
	// Output:
	// 127.0.0.1:8080 false
	// [::1]:8080 false
	// localhost:8080 false
	// 0.0.0.0:8080 true
	// :8080 true
	// true
}
