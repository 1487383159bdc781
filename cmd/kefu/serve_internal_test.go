package main

import (
	"net/http"
	"testing"
	"time"
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

func TestParseUnmergeWindow(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "1d": 24 * time.Hour, "720h": 720 * time.Hour, "90m": 90 * time.Minute, "1ms": time.Millisecond} {
		if got, err := parseWindow(in); err != nil || got != want {
			t.Errorf("parseWindow(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0d", "-1d", "0s", "-5h", "thirty days", "d", "1.5d"} {
		if got, err := parseWindow(in); err == nil {
			t.Errorf("parseWindow(%q) = %v, want an error", in, got)
		}
	}
}
