package graphql_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/kefu-crm/kefu/graphql"
)

// ExampleNewHandler builds the schema over the ports and serves it.
func ExampleNewHandler() {
	schema, err := graphql.NewSchema(newFake().deps())
	if err != nil {
		panic(err)
	}
	h, err := graphql.NewHandler(schema, graphql.HandlerConfig{})
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query": "{ customer(id: \"c1\") { tier stage } }"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output: 200 {"data":{"customer":{"stage":"COMPLAINING","tier":"GOLD"}}}
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
