package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/server"
)

// unavailable checks that a response is the UNAVAILABLE refusal for reason.
func unavailable(t *testing.T, r result, reason string) {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable || len(r.Errors) != 1 || r.Errors[0].code() != string(server.CodeUnavailable) || r.Errors[0].Extensions["reason"] != reason || r.Data != nil {
		t.Fatalf("want HTTP 503 UNAVAILABLE (%s) and no data, got HTTP %d: %s", reason, r.Status, r.Raw)
	}
}

// A read model that stops on an event it cannot read used to leave GraphQL
// answering from a partial book with no error (only /healthz said 503);
// now every request is refused with UNAVAILABLE until a restart.
func TestStoppedReadModelAnswersUnavailable(t *testing.T) {
	h := startServer(t, options{})
	h.register("c1", "Ada", nil)
	h.ok(`{ customers(first: 5) { totalCount } }`, nil)

	// An event no read model can decode, as a damaged record or a bug
	// would leave.
	bad := eventstore.Record{ID: uuid.New(), Type: "CustomerRegistered", SchemaVersion: 1, OccurredAt: time.Now(), Data: []byte(`{"name": 42}`)}
	if _, err := h.srv.Store().Append(t.Context(), "customer-c2", eventstore.NoStream(), bad); err != nil {
		t.Fatal(err)
	}
	eventually(t, "/healthz to report the stopped read model", func() bool {
		code, _, _ := h.httpGet("/healthz", nil)
		return code == http.StatusServiceUnavailable
	})
	r := h.gql(`{ customers(first: 5) { totalCount } }`, nil)
	unavailable(t, r, "stopped")
	if !strings.Contains(r.Errors[0].Message, "stopped at position") {
		t.Fatalf("the message does not say what stopped: %s", r.Errors[0].Message)
	}
	before := h.head()
	unavailable(t, h.gql(`mutation { registerCustomer(input: {id: "c3", name: "Bo"}) { version } }`, nil), "stopped")
	if h.head() != before {
		t.Fatal("a refused mutation appended")
	}
	// The explorer page is still served.
	if code, _, _ := h.httpGet("/graphql", map[string]string{"Accept": "text/html"}); code != http.StatusOK {
		t.Fatalf("explorer page: HTTP %d", code)
	}
}

// runServer starts a server on dir whose Run may fail (harness treats that
// as a test error); runErr waits for Run's result.
func runServer(t *testing.T, dir string) (srv *server.Server, hs *httptest.Server, runErr func(time.Duration) (error, bool)) {
	t.Helper()
	srv, err := server.New(t.Context(), server.Config{DataDir: dir})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan struct{})
	go func() { err = srv.Run(ctx); close(done) }()
	runErr = func(d time.Duration) (error, bool) {
		select {
		case <-done:
			return err, true
		case <-time.After(d):
			return nil, false
		}
	}
	hs = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		cancel()
		if _, ok := runErr(30 * time.Second); !ok {
			t.Errorf("Run did not return")
		}
		_ = srv.Close()
	})
	select {
	case <-srv.Ready():
	case <-done:
		t.Fatalf("Run returned before Ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("not ready after 30s")
	}
	return srv, hs, runErr
}

// The store's file cut short under a running server used to kill it with
// SIGBUS at the next write; now the write fails, the store keeps the
// damage, GraphQL answers UNAVAILABLE (damaged), /healthz says why, and Run
// ends with an error matching datadir.ErrDamaged.
func TestStoreDamagedWhileServing(t *testing.T) {
	dir := t.TempDir()
	srv, hs, runErr := runServer(t, dir)
	h := &harness{t: t, dir: dir, srv: srv, http: hs}
	for range 300 {
		h.register("c-"+uuid.NewString()[:13], "Ada", nil)
	}
	if err := os.Truncate(filepath.Join(dir, "events", embedded.FileName), 8<<10); err != nil {
		t.Fatal(err)
	}
	r := h.gql(`mutation { registerCustomer(input: {id: "late", name: "Bo"}) { version } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].code() != string(server.CodeUnavailable) || !strings.Contains(r.Errors[0].Message, "restore") {
		t.Fatalf("a write on a truncated file: %s; want UNAVAILABLE saying what to do", r.Raw)
	}
	unavailable(t, h.gql(`{ customers(first: 5) { totalCount } }`, nil), "damaged")
	code, _, body := h.httpGet("/healthz", nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "is damaged") {
		t.Fatalf("/healthz: HTTP %d %s", code, body)
	}
	err, ok := runErr(20 * time.Second)
	if !ok {
		t.Fatal("Run goes on over a damaged store")
	}
	if !errors.Is(err, embedded.ErrDamaged) || !datadir.IsDamage(err) {
		t.Fatalf("Run: %v, want the store's damage", err)
	}
}

// backupRequest posts to the backup endpoint.
func backupRequest(t *testing.T, url, token string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+server.BackupPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// The backup endpoint hands out every personal-data key: ADMIN only with
// --auth, and without it only this machine's tools (no browser Origin, a
// loopback Host — not a rebound DNS name).
func TestBackupEndpointIsAdminOnly(t *testing.T) {
	t.Run("auth", func(t *testing.T) {
		h := startServer(t, options{auth: true})
		for _, tc := range []struct {
			token string
			code  int
		}{{"", 401}, {"nope", 401}, {tokAnalyst, 403}, {tokManager, 403}, {tokMarketing, 403}, {tokAdmin, 200}} {
			if resp := backupRequest(t, h.http.URL, tc.token, nil); resp.StatusCode != tc.code {
				t.Errorf("token %q: HTTP %d, want %d", tc.token, resp.StatusCode, tc.code)
			}
		}
	})
	t.Run("no auth", func(t *testing.T) {
		h := startServer(t, options{})
		for _, tc := range []struct {
			header map[string]string
			code   int
		}{
			{map[string]string{"Origin": "http://127.0.0.1:9999"}, 403},
			{map[string]string{"Host": "evil.example:8080"}, 403},
			{map[string]string{"Host": "localhost"}, 200},
			{nil, 200},
		} {
			if resp := backupRequest(t, h.http.URL, "", tc.header); resp.StatusCode != tc.code {
				t.Errorf("%v: HTTP %d, want %d", tc.header, resp.StatusCode, tc.code)
			}
		}
		resp, err := http.Get(h.http.URL + server.BackupPath)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("GET took a backup")
		}
	})
}

// A backup streamed by the endpoint: every file of the manifest, the log
// first and the keys after it, backup.json last, and a copy that verifies.
func TestBackupEndpointStreamsAVerifiableCopy(t *testing.T) {
	h := startServer(t, options{})
	for _, id := range []string{"a1", "b2", "c3"} {
		h.register(id, "Name "+id, nil)
	}
	h.ok(`mutation { eraseCustomer(input: {customerId: "b2", by: "alice", reason: "GDPR request"}) { version } }`, nil)
	resp := backupRequest(t, h.http.URL, "", nil)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("HTTP %d %s", resp.StatusCode, b)
	}
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var names []string
	mr := multipart.NewReader(resp.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := p.Header.Get(server.BackupFileHeader)
		path, err := datadir.BackupFilePath(out, name)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
		b, _ := io.ReadAll(p)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(names); n < 3 || names[n-3] != "events/events.db" || names[n-2] != "keys/keys.dat" || names[n-1] != "backup.json" {
		t.Fatalf("parts %v: want checkpoints, then the log, the keys and backup.json", names)
	}
	m, keys, err := datadir.VerifyBackup(t.Context(), out)
	if err != nil {
		t.Fatal(err)
	}
	// Three customers' data keys and the duplicates index's key.
	if m.Head != h.head() || keys != 4 || resp.Header.Get(server.BackupIdentityHeader) != m.Identity {
		t.Fatalf("manifest %+v, %d keys; server head %d, identity header %s", m, keys, h.head(), resp.Header.Get(server.BackupIdentityHeader))
	}
	var manifest map[string]any
	b, _ := os.ReadFile(filepath.Join(out, "backup.json"))
	if err := json.Unmarshal(b, &manifest); err != nil || manifest["format"] != datadir.BackupFormat {
		t.Fatalf("backup.json: %v %s", err, b)
	}
	if bytes.Contains(b, []byte("Name a1")) {
		t.Fatal("the manifest holds personal data")
	}
}
