package graphql

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// BrowserPolicy decides what a web browser may do with the server. A
// browser is a confused deputy: any page it shows can send requests to
// kefu, so without care a page on another site could drive the API of a
// kefu that has no --auth (every caller a local ADMIN). Guard enforces
// three rules:
//
//   - Host. Without authentication (LoopbackOnly) the Host header must name
//     the loopback interface: localhost (or a name under .localhost),
//     127.0.0.0/8 or [::1], or one of Hosts. A page of evil.example whose
//     DNS name was re-pointed at 127.0.0.1 (DNS rebinding) sends
//     "Host: evil.example" and is refused. With authentication any Host is
//     accepted unless Hosts is set (then: loopback names and Hosts).
//   - Origin. A request that carries an Origin header (browsers send it on
//     every cross-origin request and every POST) must come from the
//     server's own origin or from one of CORSOrigins; any other is 403
//     before anything runs.
//   - CORS. Preflights (OPTIONS) from CORSOrigins are answered, and their
//     requests get Access-Control-Allow-Origin, so a web app served
//     elsewhere can call the API; no credentials (cookies) are involved,
//     the bearer token travels in the Authorization header.
//
// Together with the handler's rule that a POST body is read only as
// application/json (which a page cannot send cross-origin without a
// preflight), a page on another origin can neither run nor read an
// operation unless its origin is listed.
type BrowserPolicy struct {
	// CORSOrigins are the origins (scheme://host[:port], exactly as a
	// browser sends them in Origin) of web apps allowed to call the API.
	CORSOrigins []string
	// Hosts are further Host header values (a name, or name:port) to
	// accept, e.g. the public name of a reverse proxy in front of kefu.
	Hosts []string
	// LoopbackOnly requires a loopback Host (or one of Hosts): set it when
	// authentication is disabled.
	LoopbackOnly bool
}

// ErrBrowserPolicy marks a malformed BrowserPolicy.
var ErrBrowserPolicy = errors.New("invalid browser policy")

// Validate reports malformed origins and hosts (wrapping ErrBrowserPolicy).
func (p BrowserPolicy) Validate() error {
	var errs []error
	for _, o := range p.CORSOrigins {
		if _, err := parseOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("%w: --cors-origin %q: %w", ErrBrowserPolicy, o, err))
		}
	}
	for _, h := range p.Hosts {
		if h == "" || strings.ContainsAny(h, "/ \t") {
			errs = append(errs, fmt.Errorf("%w: --allowed-host %q: want a host name or host:port", ErrBrowserPolicy, h))
		}
	}
	return errors.Join(errs...)
}

// parseOrigin checks that o is scheme://host[:port] and returns it in the
// form browsers send (lower case, no default port).
func parseOrigin(o string) (string, error) {
	if o == "*" || o == "null" {
		return "", errors.New(`name each origin (scheme://host:port); "*" and "null" are not allowed`)
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("want scheme://host[:port], e.g. http://localhost:3000")
	}
	host := strings.ToLower(u.Host)
	if p := u.Port(); (u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443") {
		host = strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	return u.Scheme + "://" + host, nil
}

// Guard wraps next with the policy (see BrowserPolicy).
func Guard(p BrowserPolicy, next http.Handler) (http.Handler, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	g := &guard{next: next, origins: map[string]bool{}, hosts: map[string]bool{}, loopbackOnly: p.LoopbackOnly}
	for _, o := range p.CORSOrigins {
		n, _ := parseOrigin(o)
		g.origins[n] = true
	}
	for _, h := range p.Hosts {
		g.hosts[strings.ToLower(h)] = true
	}
	return g, nil
}

type guard struct {
	next         http.Handler
	origins      map[string]bool
	hosts        map[string]bool
	loopbackOnly bool
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.hostAllowed(r.Host) {
		refuse(w, fmt.Sprintf("Host %q is not a name of this server: kefu without --auth answers only to localhost, 127.0.0.1 and [::1] "+
			"(this protects it from DNS rebinding); start it with --allowed-host for a proxy's name", r.Host))
		return
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		g.next.ServeHTTP(w, r)
		return
	}
	cross := !sameOrigin(origin, r)
	norm, err := parseOrigin(origin)
	if cross && (err != nil || !g.origins[norm]) {
		refuse(w, fmt.Sprintf("a web page of %s may not call kefu: start kefu with --cors-origin %s to allow it", origin, origin))
		return
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	if cross {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", "GET, POST")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	g.next.ServeHTTP(w, r)
}

// hostAllowed applies the Host rule.
func (g *guard) hostAllowed(host string) bool {
	host = strings.ToLower(host)
	if g.hosts[host] {
		return true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	if g.hosts[name] || name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	if ip := net.ParseIP(name); ip != nil && ip.IsLoopback() {
		return true
	}
	return !g.loopbackOnly && len(g.hosts) == 0
}

// sameOrigin reports whether origin is the server's own origin as the
// request names it (scheme and Host).
func sameOrigin(origin string, r *http.Request) bool {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	self, err := parseOrigin(scheme + "://" + r.Host)
	if err != nil {
		return false
	}
	o, err := parseOrigin(origin)
	return err == nil && o == self
}

// refuse answers 403 with a GraphQL-shaped FORBIDDEN error.
func refuse(w http.ResponseWriter, msg string) {
	writeErrors(w, mediaJSON, http.StatusForbidden, &Error{Code: CodeForbidden, Message: msg})
}
