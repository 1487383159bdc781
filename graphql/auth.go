package graphql

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
)

// Role is what an actor may do; see the package documentation for the matrix.
type Role string

// The roles of DESIGN §7.
const (
	RoleAdmin          Role = "ADMIN"
	RoleAccountManager Role = "ACCOUNT_MANAGER"
	RoleMarketing      Role = "MARKETING"
	RoleAnalyst        Role = "ANALYST"
)

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleAccountManager, RoleMarketing, RoleAnalyst:
		return true
	}
	return false
}

// Actor is the authenticated caller. It is passed to every command so that
// it can be recorded in the events' metadata.
type Actor struct {
	User string
	Role Role
}

// LocalActor is who every caller is when auth is disabled.
var LocalActor = Actor{User: "local", Role: RoleAdmin}

type actorKey struct{}

// WithActor returns a context carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of the request, if authenticated.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// permission is one thing the role matrix grants.
type permission int

const (
	permSeePII permission = iota
	permWriteCustomer
	permWriteComplaint
	permWriteFollowUp
	permWriteCampaign
	permErase
	permSearch
)

func (p permission) String() string {
	switch p {
	case permSeePII:
		return "see personal data"
	case permWriteCustomer:
		return "change customer data"
	case permWriteComplaint:
		return "change complaints"
	case permWriteFollowUp:
		return "change follow-ups"
	case permWriteCampaign:
		return "schedule or cancel campaigns"
	case permErase:
		return "erase customers"
	case permSearch:
		return "search customers by personal data"
	}
	return "do this"
}

// allowed is the role matrix (documented in doc.go; keep the two in step).
func (r Role) allowed(p permission) bool {
	switch r {
	case RoleAdmin:
		return true
	case RoleAccountManager:
		return p != permWriteCampaign && p != permErase
	case RoleMarketing:
		return p == permSeePII || p == permWriteCampaign || p == permSearch
	case RoleAnalyst:
		return false
	}
	return false
}

// require returns FORBIDDEN (or UNAUTHENTICATED without an actor) unless the
// request's actor holds p.
func require(ctx context.Context, p permission) (Actor, error) {
	a, ok := ActorFrom(ctx)
	if !ok {
		return Actor{}, &Error{Code: CodeUnauthenticated, Message: "authentication required"}
	}
	if !a.Role.allowed(p) {
		return a, &Error{Code: CodeForbidden, Message: fmt.Sprintf("role %s may not %s", a.Role, p)}
	}
	return a, nil
}

// canSeePII reports whether the request's actor may see personal data.
func canSeePII(ctx context.Context) bool {
	a, ok := ActorFrom(ctx)
	return ok && a.Role.allowed(permSeePII)
}

// Tokens maps bearer tokens to actors. Only SHA-256 digests of the tokens
// are kept in memory.
type Tokens struct {
	byDigest map[[sha256.Size]byte]Actor
}

// AuthFile is the JSON format of the --auth file:
//
//	{"tokens": [
//	  {"token": "s3cret-admin", "user": "alice", "role": "ADMIN"},
//	  {"tokenSha256": "9f86d0…", "user": "bob", "role": "ANALYST"}
//	]}
//
// Each entry gives either the token itself or the hex SHA-256 of it (so the
// file need not hold secrets in clear). Roles: ADMIN, ACCOUNT_MANAGER,
// MARKETING, ANALYST.
type AuthFile struct {
	Tokens []AuthEntry `json:"tokens"`
}

// AuthEntry is one token of an AuthFile.
type AuthEntry struct {
	Token       string `json:"token,omitempty"`
	TokenSHA256 string `json:"tokenSha256,omitempty"`
	User        string `json:"user"`
	Role        Role   `json:"role"`
}

// ErrAuthFile marks a malformed auth file.
var ErrAuthFile = errors.New("invalid auth file")

// ParseTokens reads an AuthFile from r.
func ParseTokens(r io.Reader) (*Tokens, error) {
	dec := json.NewDecoder(io.LimitReader(r, 1<<20))
	dec.DisallowUnknownFields()
	var f AuthFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAuthFile, err)
	}
	t := &Tokens{byDigest: make(map[[sha256.Size]byte]Actor, len(f.Tokens))}
	var errs []error
	for i, e := range f.Tokens {
		var d [sha256.Size]byte
		switch {
		case e.Token != "" && e.TokenSHA256 != "":
			errs = append(errs, fmt.Errorf("%w: tokens[%d]: give token or tokenSha256, not both", ErrAuthFile, i))
			continue
		case e.Token != "":
			d = sha256.Sum256([]byte(e.Token))
		case e.TokenSHA256 != "":
			b, err := hex.DecodeString(e.TokenSHA256)
			if err != nil || len(b) != sha256.Size {
				errs = append(errs, fmt.Errorf("%w: tokens[%d]: tokenSha256 is not 64 hex digits", ErrAuthFile, i))
				continue
			}
			copy(d[:], b)
		default:
			errs = append(errs, fmt.Errorf("%w: tokens[%d]: no token", ErrAuthFile, i))
			continue
		}
		if strings.TrimSpace(e.User) == "" {
			errs = append(errs, fmt.Errorf("%w: tokens[%d]: no user", ErrAuthFile, i))
		}
		if !e.Role.Valid() {
			errs = append(errs, fmt.Errorf("%w: tokens[%d]: role %q is not ADMIN, ACCOUNT_MANAGER, MARKETING or ANALYST", ErrAuthFile, i, e.Role))
		}
		if _, dup := t.byDigest[d]; dup {
			errs = append(errs, fmt.Errorf("%w: tokens[%d]: duplicate token", ErrAuthFile, i))
		}
		t.byDigest[d] = Actor{User: e.User, Role: e.Role}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(t.byDigest) == 0 {
		return nil, fmt.Errorf("%w: no tokens", ErrAuthFile)
	}
	return t, nil
}

// LoadTokens reads the --auth file at path.
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ParseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Lookup returns the actor a token belongs to.
func (t *Tokens) Lookup(token string) (Actor, bool) {
	if t == nil || token == "" {
		return Actor{}, false
	}
	a, ok := t.byDigest[sha256.Sum256([]byte(token))]
	return a, ok
}

// Authenticate resolves the request's actor: with tokens == nil (auth
// disabled) everyone is LocalActor; otherwise the Authorization: Bearer
// token must be known. It returns an *Error with code UNAUTHENTICATED.
func Authenticate(r *http.Request, tokens *Tokens) (Actor, error) {
	if tokens == nil {
		return LocalActor, nil
	}
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return Actor{}, &Error{Code: CodeUnauthenticated, Message: "missing bearer token"}
	}
	a, ok := tokens.Lookup(strings.TrimSpace(tok))
	if !ok {
		return Actor{}, &Error{Code: CodeUnauthenticated, Message: "unknown bearer token"}
	}
	return a, nil
}

// Authenticator is middleware that puts the request's Actor in its context
// (see ActorFrom) or answers 401 with a GraphQL-shaped error body.
func Authenticator(tokens *Tokens, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := Authenticate(r, tokens)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kefu"`)
			writeErrors(w, mediaJSON, http.StatusUnauthorized, err.(*Error))
			return
		}
		next.ServeHTTP(w, r.WithContext(WithActor(r.Context(), a)))
	})
}

// ErrInsecureBind is returned by CheckBind for a non-loopback address
// without authentication.
var ErrInsecureBind = errors.New("refusing to serve without --auth on a non-loopback address")

// CheckBind enforces DESIGN §7: without authentication the API may only
// listen on a loopback address (127.0.0.0/8, ::1, localhost). addr is a
// host:port as given to net.Listen; an empty host means all interfaces.
func CheckBind(addr string, authEnabled bool) error {
	if authEnabled {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInsecureBind, addr)
}
