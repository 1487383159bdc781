package main

import (
	"net/http"
	"testing"
)

// Every timeout of the HTTP server is set: without ReadTimeout a client
// trickling a body holds a connection (and a goroutine) forever, without
// IdleTimeout so does an idle keep-alive connection.
func TestHTTPServerBoundsConnections(t *testing.T) {
	s := httpServer(http.NotFoundHandler())
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 || s.MaxHeaderBytes <= 0 {
		t.Fatalf("unbounded: %+v", s)
	}
	if s.WriteTimeout <= 10e9 {
		t.Errorf("WriteTimeout %v does not leave room for the 10s request timeout", s.WriteTimeout)
	}
}
