package graphql

import (
	"bytes"
	"embed"
	"fmt"
)

// explorerFS holds the browser page: our own small GraphiQL-style explorer,
// no third-party code, no CDN — it works offline.
//
//go:embed explorer/index.html explorer/app.js explorer/style.css
var explorerFS embed.FS

// explorerPage returns index.html with the stylesheet and script inlined,
// so the page is one self-contained response.
func explorerPage() ([]byte, error) {
	read := func(name string) ([]byte, error) {
		b, err := explorerFS.ReadFile("explorer/" + name)
		if err != nil {
			return nil, fmt.Errorf("graphql: explorer asset %s: %w", name, err)
		}
		return b, nil
	}
	page, err := read("index.html")
	if err != nil {
		return nil, err
	}
	css, err := read("style.css")
	if err != nil {
		return nil, err
	}
	js, err := read("app.js")
	if err != nil {
		return nil, err
	}
	page = bytes.Replace(page, []byte("/*STYLE*/"), css, 1)
	page = bytes.Replace(page, []byte("/*SCRIPT*/"), js, 1)
	return page, nil
}
