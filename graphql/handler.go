package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	gql "github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"
)

// HandlerConfig configures NewHandler. Zero values take the defaults.
type HandlerConfig struct {
	// Tokens enables authentication: every GraphQL request needs a known
	// bearer token. Nil disables it: every caller is LocalActor (ADMIN);
	// the caller (kefu serve) must then bind to loopback only.
	Tokens *Tokens
	// Logger receives request failures. Nil means slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes limits a POST body (default 1 MiB); larger → HTTP 413.
	MaxBodyBytes int64
	// Timeout bounds each request's execution (default 10 s).
	Timeout time.Duration
	// MaxDepth is the deepest field nesting accepted (default DefaultMaxDepth).
	MaxDepth int
	// MaxComplexity is the highest estimated cost accepted (default DefaultMaxComplexity).
	MaxComplexity int
	// Limits bound each document before it is parsed, validated and run
	// (zero fields take the defaults; see Limits).
	Limits Limits
	// CacheEntries bounds the parse/validate cache (default 1024; negative disables it).
	CacheEntries int
	// CacheBytes bounds the total query text held by the cache (default 8 MiB).
	CacheBytes int
	// DisableExplorer turns off the browser page.
	DisableExplorer bool
	// OnRequest, if set, is called after every GraphQL request (for metrics).
	OnRequest func(RequestInfo)
}

// RequestInfo describes one finished GraphQL request.
type RequestInfo struct {
	OperationName string
	// OperationType is "query", "mutation" or "" when the request never got that far.
	OperationType string
	Status        int
	Duration      time.Duration
	CacheHit      bool
	// ErrorCodes lists the extensions.code of each error in the response.
	ErrorCodes []Code
	// Executed is true when the operation ran (with or without field
	// errors); false when the request was refused before execution.
	Executed bool
	// RootFields are the operation's root fields (see RootField); empty
	// when the request was refused before its operation was known.
	RootFields []RootField
}

// Default handler limits.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultTimeout      = 10 * time.Second
	DefaultCacheEntries = 1024
	DefaultCacheBytes   = 8 << 20
)

// Validate reports invalid settings.
func (c HandlerConfig) Validate() error {
	var errs []error
	if c.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("graphql: MaxBodyBytes is negative"))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("graphql: Timeout is negative"))
	}
	if c.MaxDepth < 0 {
		errs = append(errs, errors.New("graphql: MaxDepth is negative"))
	}
	if c.MaxComplexity < 0 {
		errs = append(errs, errors.New("graphql: MaxComplexity is negative"))
	}
	if c.CacheBytes < 0 {
		errs = append(errs, errors.New("graphql: CacheBytes is negative"))
	}
	errs = append(errs, c.Limits.validate())
	return errors.Join(errs...)
}

// Handler serves GraphQL over HTTP. Build it with NewHandler.
type Handler struct {
	schema gql.Schema
	cfg    HandlerConfig
	log    *slog.Logger
	cache  *docCache
	page   []byte
	intro  *introspection
}

// NewHandler serves schema at whatever path it is mounted on:
//
//   - POST with a JSON body {query, variables, operationName};
//   - GET with ?query=…&variables=…&operationName=… (queries only; a
//     mutation over GET is refused with HTTP 405);
//   - GET from a browser (Accept: text/html, no query): the explorer page.
func NewHandler(schema gql.Schema, cfg HandlerConfig) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if schema.QueryType() == nil {
		return nil, errors.New("graphql: schema has no query type")
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxDepth == 0 {
		cfg.MaxDepth = DefaultMaxDepth
	}
	if cfg.MaxComplexity == 0 {
		cfg.MaxComplexity = DefaultMaxComplexity
	}
	if cfg.CacheEntries == 0 {
		cfg.CacheEntries = DefaultCacheEntries
	}
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = DefaultCacheBytes
	}
	cfg.Limits = cfg.Limits.withDefaults()
	h := &Handler{schema: schema, cfg: cfg, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.Default()
	}
	var err error
	if h.intro, err = newIntrospection(&h.schema); err != nil {
		return nil, err
	}
	if cfg.CacheEntries > 0 {
		h.cache = newDocCache(cfg.CacheEntries, cfg.CacheBytes)
	}
	if !cfg.DisableExplorer {
		p, err := explorerPage()
		if err != nil {
			return nil, err
		}
		h.page = p
	}
	return h, nil
}

// CacheStats reports the parse/validate cache's counters.
func (h *Handler) CacheStats() CacheStats { return h.cache.stats() }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	info := RequestInfo{}
	media, acceptable := negotiate(r.Header.Get("Accept"))
	w.Header().Add("Vary", "Accept")
	var status int
	var errs []*Error
	if !acceptable && !(h.page != nil && isPageRequest(r)) {
		status, errs = http.StatusNotAcceptable, []*Error{badInput("", "Accept must allow application/graphql-response+json or application/json")}
	} else {
		status, errs = h.serve(w, r, media, &info)
	}
	if errs != nil {
		writeErrors(w, media, status, errs...)
		for _, e := range errs {
			info.ErrorCodes = append(info.ErrorCodes, e.Code)
		}
		info.requestFailed(errs[0].Code)
	}
	if h.cfg.OnRequest != nil && status != 0 {
		info.Status = status
		info.Duration = time.Since(start)
		h.cfg.OnRequest(info)
	}
}

// isPageRequest: a browser asking for the explorer (GET, no query, HTML
// accepted).
func isPageRequest(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Query().Get("query") == "" && acceptsHTML(r)
}

// serve handles one request. It either writes the response itself and
// returns its status, or returns a status and errors for ServeHTTP to write
// (a GraphQL request error's status depends on the media type: see
// mediaType.requestErrorStatus).
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, media mediaType, info *RequestInfo) (int, []*Error) {
	var req Request
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if h.page != nil && isPageRequest(r) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:")
			w.WriteHeader(http.StatusOK)
			if r.Method == http.MethodGet {
				_, _ = w.Write(h.page)
			}
			return 0, nil
		}
		var err *Error
		if req, err = requestFromQuery(r); err != nil {
			return media.requestErrorStatus(), []*Error{err}
		}
	case http.MethodPost:
		if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
			return http.StatusUnsupportedMediaType, []*Error{err}
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return http.StatusRequestEntityTooLarge, []*Error{badInput("", fmt.Sprintf("request body exceeds %d bytes", h.cfg.MaxBodyBytes))}
			}
			return http.StatusBadRequest, []*Error{badInput("", "cannot read request body")}
		}
		req, err = DecodeRequest(body)
		if err != nil {
			return media.requestErrorStatus(), []*Error{toError(r.Context(), h.log, err)}
		}
	case http.MethodOptions:
		// CORS preflights are answered by Guard; a plain OPTIONS learns
		// the methods.
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return 0, nil
	default:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		return http.StatusMethodNotAllowed, []*Error{badInput("", "use GET or POST")}
	}
	info.OperationName = req.OperationName

	actor, err := Authenticate(r, h.cfg.Tokens)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kefu"`)
		return http.StatusUnauthorized, []*Error{err.(*Error)}
	}
	ctx, cancel := context.WithTimeout(WithActor(r.Context(), actor), h.cfg.Timeout)
	defer cancel()
	ctx, release := withMeter(ctx, h.cfg.Limits.MaxResponseBytes)
	defer release(nil)

	if strings.TrimSpace(req.Query) == "" {
		return media.requestErrorStatus(), []*Error{badInput("query", "query is required")}
	}
	doc, hit, errs := h.document(req.Query)
	info.CacheHit = hit
	if errs != nil {
		return media.requestErrorStatus(), errs
	}
	if status, errs := h.interrupted(ctx, media, info); errs != nil {
		return status, errs
	}
	op := selectOperation(doc, req.OperationName)
	if op != nil {
		info.OperationType = op.Operation
		info.RootFields = rootFields(&h.schema, doc, op)
		if op.Operation == ast.OperationTypeMutation && r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			return http.StatusMethodNotAllowed, []*Error{badInput("", "mutations must be sent with POST")}
		}
		if c := operationComplexity(&h.schema, doc, op, req.Variables, h.cfg.MaxComplexity); c > h.cfg.MaxComplexity {
			return media.requestErrorStatus(), []*Error{{Code: CodeBadUserInput,
				Message: fmt.Sprintf("query complexity %d exceeds the maximum %d (lower `first` or select less)", c, h.cfg.MaxComplexity),
				Details: map[string]any{"complexity": c, "maxComplexity": h.cfg.MaxComplexity}}}
		}
	}

	res := gql.Execute(gql.ExecuteParams{
		Schema:        h.schema,
		AST:           doc,
		OperationName: req.OperationName,
		Args:          req.Variables,
		Context:       ctx,
	})
	if len(res.Errors) > 0 {
		if status, errs := h.interrupted(ctx, media, info); errs != nil {
			return status, errs
		}
	}
	out := h.classify(ctx, res.Errors)
	if res.Data == nil && len(res.Errors) > 0 && !hasPath(res.Errors) {
		// Execution did not start (variables did not coerce, no such
		// operation): a request error, without a data entry.
		return media.requestErrorStatus(), out
	}
	info.Executed = true
	h.intro.correct(doc, op, res.Data)
	for _, e := range out {
		info.ErrorCodes = append(info.ErrorCodes, e.Code)
	}
	info.fieldErrors(res.Errors, out)
	writeJSON(w, media, http.StatusOK, executed{Data: res.Data, Errors: formatted(res.Errors, out)})
	return http.StatusOK, nil
}

// requestFromQuery reads a GET request's parameters: query, operationName,
// variables and extensions (JSON objects, URL-encoded).
func requestFromQuery(r *http.Request) (Request, *Error) {
	q := r.URL.Query()
	req := Request{Query: q.Get("query"), OperationName: q.Get("operationName")}
	var err *Error
	if req.Variables, err = decodeVariables([]byte(q.Get("variables"))); err != nil {
		return Request{}, err
	}
	if req.Extensions, err = decodeObject("extensions", []byte(q.Get("extensions"))); err != nil {
		return Request{}, err
	}
	return req, nil
}

// document returns the parsed and validated document for query, from the
// cache when possible. The document's limits are checked before the
// parser (scanDocument) and before validation (checkShape), so that no
// validation rule walks a hostile document (see Limits).
func (h *Handler) document(query string) (*ast.Document, bool, []*Error) {
	if doc, ok := h.cache.get(query); ok {
		return doc, true, nil
	}
	sc, e := scanDocument(query, h.cfg.Limits)
	if e == nil {
		e = plainSyntax(sc, query)
	}
	if e != nil {
		return nil, false, []*Error{e}
	}
	src := source.NewSource(&source.Source{Body: []byte(query), Name: "GraphQL request"})
	doc, err := parser.Parse(parser.ParseParams{Source: src})
	if err != nil {
		return nil, false, []*Error{{Code: CodeBadUserInput, Message: gqlerrors.FormatError(err).Message}}
	}
	if e := checkShape(doc, h.cfg.Limits, h.cfg.MaxDepth); e != nil {
		return nil, false, []*Error{e}
	}
	h.intro.rewriteIntrospection(doc)
	if verrs := validate(&h.schema, doc, src); len(verrs) > 0 {
		out := make([]*Error, len(verrs))
		for i, e := range verrs {
			out[i] = &Error{Code: CodeBadUserInput, Message: hint(e.Message)}
			if len(e.Locations) > 0 {
				out[i].locations = e.Locations
			}
		}
		return nil, false, out
	}
	h.cache.put(query, doc)
	return doc, false, nil
}

// interrupted reports a request whose context has ended — deadline,
// client gone, or answer over MaxResponseBytes — as the one error to
// answer with, or nil. TIMEOUT and CANCELLED are HTTP 503 in either media
// type (the server stopped, not the request was wrong); the answer over
// its limit is a request error.
func (h *Handler) interrupted(ctx context.Context, media mediaType, info *RequestInfo) (int, []*Error) {
	if ctx.Err() == nil {
		return 0, nil
	}
	e := interruption(ctx).(*Error)
	status := http.StatusServiceUnavailable
	if e.Code == CodeBadUserInput {
		status = media.requestErrorStatus()
	}
	level := slog.LevelWarn
	if e.Code == CodeCancelled {
		level = slog.LevelInfo // the client left: nothing went wrong here
	}
	h.log.Log(ctx, level, "graphql: request stopped", "operation", info.OperationName, "code", e.Code, "err", e.Message)
	return status, []*Error{e}
}

// selectOperation finds the operation Execute will run, or nil (Execute
// then reports the problem).
func selectOperation(doc *ast.Document, name string) *ast.OperationDefinition {
	var found *ast.OperationDefinition
	for _, d := range doc.Definitions {
		op, ok := d.(*ast.OperationDefinition)
		if !ok {
			continue
		}
		if name == "" {
			if found != nil {
				return nil
			}
			found = op
			continue
		}
		if op.Name != nil && op.Name.Value == name {
			return op
		}
	}
	return found
}

// classify gives every error a code: errors from our resolvers carry one;
// graphql-go's own errors are input errors when they arise before
// execution (variable coercion, operation selection) and INTERNAL during it.
func (h *Handler) classify(ctx context.Context, errs []gqlerrors.FormattedError) []*Error {
	out := make([]*Error, len(errs))
	for i, fe := range errs {
		if c, ok := fe.Extensions["code"].(string); ok {
			out[i] = &Error{Code: Code(c), Message: fe.Message}
			continue
		}
		orig := fe.OriginalError()
		switch {
		case errors.Is(orig, context.DeadlineExceeded):
			out[i] = &Error{Code: CodeTimeout, Message: "request timed out"}
		case errors.Is(orig, context.Canceled):
			out[i] = &Error{Code: CodeCancelled, Message: "request cancelled"}
		case len(fe.Path) == 0:
			out[i] = &Error{Code: CodeBadUserInput, Message: hint(fe.Message)}
			if len(fe.Locations) > 0 {
				out[i].locations = fe.Locations
			}
		default:
			h.log.ErrorContext(ctx, "graphql: execution error", "path", fe.Path, "err", fe.Message)
			out[i] = &Error{Code: CodeInternal, Message: fe.Message}
		}
	}
	return out
}

func hasPath(errs []gqlerrors.FormattedError) bool {
	for _, e := range errs {
		if len(e.Path) > 0 {
			return true
		}
	}
	return false
}

// wireError is one error of a response body.
type wireError struct {
	Message    string         `json:"message"`
	Locations  any            `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions"`
}

// executed is the body of a request that reached execution: data is always
// there (null when a non-null root field failed).
type executed struct {
	Data   any         `json:"data"`
	Errors []wireError `json:"errors,omitempty"`
}

// errorsOnly is the body of a request refused before execution: no data
// entry at all.
type errorsOnly struct {
	Errors []wireError `json:"errors"`
}

func formatted(fes []gqlerrors.FormattedError, coded []*Error) []wireError {
	if len(fes) == 0 {
		return nil
	}
	out := make([]wireError, len(fes))
	for i, fe := range fes {
		ext := coded[i].Extensions()
		for k, v := range fe.Extensions {
			if _, set := ext[k]; !set {
				ext[k] = v
			}
		}
		var loc any
		if len(fe.Locations) > 0 {
			loc = fe.Locations
		}
		out[i] = wireError{Message: coded[i].Message, Locations: loc, Path: fe.Path, Extensions: ext}
	}
	return out
}

// writeErrors writes a GraphQL-shaped error body (no data entry) with the
// given status.
func writeErrors(w http.ResponseWriter, media mediaType, status int, errs ...*Error) {
	body := errorsOnly{Errors: make([]wireError, len(errs))}
	for i, e := range errs {
		body.Errors[i] = wireError{Message: e.Message, Locations: e.locations, Extensions: e.Extensions()}
	}
	writeJSON(w, media, status, body)
}

func writeJSON(w http.ResponseWriter, media mediaType, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		buf.WriteString(`{"errors":[{"message":"cannot encode response","extensions":{"code":"INTERNAL"}}]}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", media.contentType())
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// hint adds the expected format to graphql-go's coercion messages for our
// scalars, which it cannot describe itself.
func hint(msg string) string {
	switch {
	case strings.Contains(msg, `Expected type "DateTime"`):
		return msg + " (want RFC 3339 with an offset, e.g. 2025-03-04T10:00:00+08:00)"
	case strings.Contains(msg, `Expected type "Date"`):
		return msg + " (want an existing day as YYYY-MM-DD)"
	}
	return msg
}

func acceptsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
