package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/server"
)

// TestOutboxEndpointRefusals: GET /outbox needs a token of a role that runs
// campaigns (ADMIN, MARKETING), checks its parameters, and says so when
// greetings go to another sender. (TestCampaignMarketerFlow reads the
// greetings through it.)
func TestOutboxEndpointRefusals(t *testing.T) {
	h := startServer(t, options{auth: true})
	for _, tt := range []struct {
		token, path string
		status      int
		code        string
	}{
		{"", "/outbox", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"not-a-token", "/outbox", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{tokAnalyst, "/outbox", http.StatusForbidden, "FORBIDDEN"},
		{tokManager, "/outbox", http.StatusForbidden, "FORBIDDEN"},
		{tokMarketing, "/outbox?after=-1", http.StatusBadRequest, "BAD_USER_INPUT"},
		{tokMarketing, "/outbox?after=two", http.StatusBadRequest, "BAD_USER_INPUT"},
		{tokMarketing, "/outbox?limit=0", http.StatusBadRequest, "BAD_USER_INPUT"},
		{tokMarketing, "/outbox?limit=10001", http.StatusBadRequest, "BAD_USER_INPUT"},
		{tokMarketing, "/outbox?after=3&limit=10000", http.StatusOK, ""},
		{tokAdmin, "/outbox", http.StatusOK, ""},
	} {
		status, body := h.get(tt.token, tt.path)
		if status != tt.status {
			t.Errorf("GET %s with %q: %d %s, want %d", tt.path, tt.token, status, body, tt.status)
			continue
		}
		if tt.code == "" {
			if body != "" {
				t.Errorf("GET %s on an empty outbox: %q, want no lines", tt.path, body)
			}
			continue
		}
		var e struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != tt.code || e.Error.Message == "" {
			t.Errorf("GET %s with %q: body %s, want error code %s with a message", tt.path, tt.token, body, tt.code)
		}
	}

	other := startServerWith(t, options{auth: true}, func(c *server.Config) { c.Sender = discard{} })
	if status, body := other.get(tokAdmin, "/outbox"); status != http.StatusNotFound || !strings.Contains(body, "NOT_FOUND") {
		t.Errorf("GET /outbox with another sender: %d %s, want 404 NOT_FOUND", status, body)
	}
}

type discard struct{}

func (discard) Send(context.Context, greeting.Message) (greeting.Receipt, error) {
	return greeting.Receipt{Attempts: 1}, nil
}
