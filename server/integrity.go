package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/graphql"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/projections"
)

// CodeUnavailable is graphql.CodeUnavailable (extensions.reason says why:
// "starting" with a Retry-After header, "stopped" or "damaged").
const CodeUnavailable = graphql.CodeUnavailable

// unavailability is why the server cannot answer now.
type unavailability struct {
	reason  string // starting, stopped, damaged
	message string
}

// unavailable says why the server cannot answer from the whole log now,
// or returns nil.
func (s *Server) unavailable(ctx context.Context) *unavailability {
	if d, ok := s.dir.Store.(interface{ Damage() error }); ok {
		if err := d.Damage(); err != nil {
			return &unavailability{"damaged", err.Error()}
		}
	}
	sts, err := s.runtime.Status(ctx)
	if err != nil {
		return &unavailability{"damaged", fmt.Sprintf("the event store does not answer: %v", err)}
	}
	for _, st := range sts {
		if st.State != projections.Stopped {
			continue
		}
		if _, logged := s.stopLogged.LoadOrStore(st.Name, true); !logged {
			s.log.Error("a read model stopped: GraphQL answers UNAVAILABLE until the server is restarted on a repaired data directory",
				"projection", st.Name, "err", st.Err)
		}
		return &unavailability{"stopped", fmt.Sprintf("read model %s stopped at position %d, so answers would leave out every event after it: %v; see /healthz, and if the data directory is damaged, restore it from a backup (README, \"Backup and restore\")",
			st.Name, st.Checkpoint+1, st.Err)}
	}
	select {
	case <-s.ready:
	default:
		return &unavailability{"starting", "kefu is starting: the read models are catching up with the log; retry in a few seconds"}
	}
	return nil
}

// whenAvailable answers GraphQL requests with UNAVAILABLE while the server
// cannot answer from the whole log; the explorer page is served anyway.
func (s *Server) whenAvailable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Query().Get("query") == "" {
			next.ServeHTTP(w, r)
			return
		}
		u := s.unavailable(r.Context())
		if u == nil {
			next.ServeHTTP(w, r)
			return
		}
		if u.reason == "starting" {
			w.Header().Set("Retry-After", "5")
		}
		writeError(w, http.StatusServiceUnavailable, u.message, map[string]any{"code": CodeUnavailable, "reason": u.reason})
	})
}

// writeError writes a GraphQL-shaped error body.
func writeError(w http.ResponseWriter, status int, message string, ext map[string]any) {
	body := map[string]any{"errors": []map[string]any{{"message": message, "extensions": ext}}}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// stoppedAtStart refuses to start on a book that a stopped read model left
// partial: it is the first thing checked once the read models caught up.
func (s *Server) stoppedAtStart(ctx context.Context) error {
	sts, err := s.runtime.Status(ctx)
	if err != nil {
		return err
	}
	for _, st := range sts {
		if st.State != projections.Stopped {
			continue
		}
		detail := fmt.Sprintf("read model %s stopped at position %d while catching up, so kefu would serve a partial book", st.Name, st.Checkpoint+1)
		if datadir.IsDamage(st.Err) {
			return &datadir.DamagedError{Dir: s.cfg.DataDir, Detail: detail, Err: st.Err}
		}
		return fmt.Errorf("server: %s: %w; kefu does not start on a partial book", detail, st.Err)
	}
	return nil
}

// verifyStore reads every page of the embedded store's file while the read
// models catch up (embedded.Store.Verify), so that damage anywhere stops
// the start instead of surfacing when a request touches it.
func (s *Server) verifyStore(ctx context.Context) error {
	start := time.Now()
	if err := s.dir.Verify(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	s.log.Info("event store verified", "took", time.Since(start))
	return nil
}

// BackupPath is the admin endpoint `kefu backup` uses to copy a running
// server's data directory (POST; ADMIN token with --auth, else only from
// this machine: a loopback Host and no browser Origin).
const BackupPath = "/admin/backup"

// BackupIdentityHeader names the data directory's identity in the answer.
const BackupIdentityHeader = "Kefu-Identity"

// BackupFileHeader names each part's file; BackupErrorHeader marks a part
// that reports a failure instead.
const (
	BackupFileHeader  = "Kefu-File"
	BackupErrorHeader = "Kefu-Error"
)

// backup streams a consistent copy of the data directory
// (datadir.Dir.WriteBackup) as multipart/mixed, one part per file,
// backup.json last.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	if status, msg := s.adminAllowed(r); status != 0 {
		writeError(w, status, msg, map[string]any{"code": map[int]string{401: "UNAUTHENTICATED", 403: "FORBIDDEN"}[status]})
		return
	}
	id, ok, err := s.dir.Identity()
	if err != nil || !ok || s.dir.Keys == nil {
		writeError(w, http.StatusNotImplemented, "this server's data directory cannot be backed up this way (backups are of the embedded store; back up EventStoreDB with its own tools)", map[string]any{"code": "FAILED_PRECONDITION"})
		return
	}
	start := time.Now()
	mw := multipart.NewWriter(w)
	w.Header().Set("Content-Type", "multipart/mixed; boundary="+mw.Boundary())
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set(BackupIdentityHeader, id.String())
	w.WriteHeader(http.StatusOK)
	m, err := s.dir.WriteBackup(r.Context(), func(name string) (io.Writer, error) {
		return mw.CreatePart(textproto.MIMEHeader{BackupFileHeader: {name}, "Content-Type": {"application/octet-stream"}})
	})
	if err != nil {
		s.log.Error("backup failed", "err", err)
		if p, perr := mw.CreatePart(textproto.MIMEHeader{BackupErrorHeader: {"1"}}); perr == nil {
			_, _ = io.WriteString(p, err.Error())
		}
		_ = mw.Close()
		return
	}
	_ = mw.Close()
	var bytes int64
	for _, f := range m.Files {
		bytes += f.Bytes
	}
	s.log.Info("backup sent", "head", m.Head, "files", len(m.Files), "bytes", bytes, "took", time.Since(start))
}

// adminAllowed lets ADMIN tokens through, or without --auth only this
// machine's own tools: browsers send an Origin header (a page on another
// site could otherwise make the request), and a Host other than a loopback
// address is a rebound DNS name.
func (s *Server) adminAllowed(r *http.Request) (int, string) {
	if r.Method != http.MethodPost {
		return http.StatusForbidden, "use POST"
	}
	if s.cfg.Tokens != nil {
		a, err := graphql.Authenticate(r, s.cfg.Tokens)
		if err != nil {
			return http.StatusUnauthorized, err.Error()
		}
		if a.Role != graphql.RoleAdmin {
			return http.StatusForbidden, fmt.Sprintf("role %s may not take backups", a.Role)
		}
		return 0, ""
	}
	if r.Header.Get("Origin") != "" || !loopbackHost(r.Host) {
		return http.StatusForbidden, "without --auth, backups are taken only from this machine (kefu backup)"
	}
	return 0, ""
}

func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
