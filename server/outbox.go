package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/graphql"
)

// Limits of GET /outbox.
const (
	outboxDefaultLimit = 1000
	outboxMaxLimit     = 10000
)

// outboxLines answers GET /outbox?after=N&limit=M: the lines of the
// greetings outbox after the first N, at most M (default 1000, at most
// 10000), as NDJSON — each line as the file holds it, with "line" (its
// 1-based number, to pass as after next time) and with to and body opened
// ("[erased]" for an erased customer). It is how an integration picks up
// greetings from the default sender: the file itself keeps to and body
// sealed under each customer's key. ADMIN and MARKETING may read it.
func (s *Server) outboxLines(w http.ResponseWriter, r *http.Request) {
	a, err := graphql.Authenticate(r, s.cfg.Tokens)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kefu"`)
		outboxError(w, http.StatusUnauthorized, "UNAUTHENTICATED", err.Error())
		return
	}
	if a.Role != graphql.RoleAdmin && a.Role != graphql.RoleMarketing {
		outboxError(w, http.StatusForbidden, "FORBIDDEN", fmt.Sprintf("role %s may not read the greetings outbox (ADMIN and MARKETING may)", a.Role))
		return
	}
	if s.outbox == nil {
		outboxError(w, http.StatusNotFound, "NOT_FOUND", "greetings go to the configured sender, not the outbox")
		return
	}
	after, err := queryInt(r, "after", 0, 0, -1)
	if err != nil {
		outboxError(w, http.StatusBadRequest, "BAD_USER_INPUT", err.Error())
		return
	}
	limit, err := queryInt(r, "limit", outboxDefaultLimit, 1, outboxMaxLimit)
	if err != nil {
		outboxError(w, http.StatusBadRequest, "BAD_USER_INPUT", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	n := 0
	err = s.outbox.Read(r.Context(), after, limit, func(e greeting.OutboxEntry) error {
		n++
		return enc.Encode(e)
	})
	if err != nil {
		if n == 0 {
			s.log.ErrorContext(r.Context(), "GET /outbox", "err", err)
			outboxError(w, http.StatusInternalServerError, "INTERNAL", "the outbox cannot be read: "+err.Error())
			return
		}
		// The status is sent: end the body short; the client resumes
		// from the last line it got.
		s.log.ErrorContext(r.Context(), "GET /outbox: ended early", "after", after, "lines", n, "err", err)
	}
	_ = bw.Flush()
}

// queryInt parses an integer query parameter in [lo, hi] (hi < 0: no upper
// bound), def when absent.
func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || (hi >= 0 && n > hi) {
		if hi < 0 {
			return 0, fmt.Errorf("%s=%q: want an integer ≥ %d", name, v, lo)
		}
		return 0, fmt.Errorf("%s=%q: want an integer from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

// outboxError writes {"error":{"code":…,"message":…}}.
func outboxError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
