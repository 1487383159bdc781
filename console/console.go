// Package console serves the browser console for account managers and
// marketing at /console: plain ES modules and CSS embedded in the binary
// (no build step, no CDN, works offline). The page talks to the public
// GraphQL API at /graphql only, with the caller's bearer token when
// authentication is on, so everything it shows an integrator can ask too.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// Path is where the console is mounted.
const Path = "/console/"

// assets are the page, its stylesheet and its modules.
//
//go:embed assets
var assets embed.FS

// Policy is the Content-Security-Policy of every console response: scripts,
// styles and connections from the server itself only — no inline script
// or style, no other origin, no framing, no form posts, no <base>.
const Policy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the console's files under Path (GET and HEAD only); the
// bare /console redirects to Path.
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic("console: embedded assets: " + err.Error()) // the embed pattern guarantees the directory
	}
	files := http.StripPrefix(strings.TrimSuffix(Path, "/"), http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == strings.TrimSuffix(Path, "/") {
			http.Redirect(w, r, Path, http.StatusFound)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", Policy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
