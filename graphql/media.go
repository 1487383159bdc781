package graphql

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// This file is the GraphQL-over-HTTP side of the handler: which media type
// an answer is written in, which status a refused request gets in it, and
// which request bodies are accepted at all.

// mediaType is the media type of a response, negotiated from Accept.
type mediaType int

const (
	// mediaJSON is application/json: every GraphQL answer is HTTP 200,
	// errors included (what Apollo Client 3 and most clients expect).
	mediaJSON mediaType = iota
	// mediaGraphQLResponse is application/graphql-response+json: a request
	// that did not reach execution is HTTP 400, and has no data entry.
	mediaGraphQLResponse
)

// Media type names.
const (
	contentTypeJSON            = "application/json"
	contentTypeGraphQLResponse = "application/graphql-response+json"
)

func (m mediaType) contentType() string {
	if m == mediaGraphQLResponse {
		return contentTypeGraphQLResponse + "; charset=utf-8"
	}
	return contentTypeJSON + "; charset=utf-8"
}

// requestErrorStatus is the status of a GraphQL request error (a body or
// parameter the server cannot use, a document that does not parse or
// validate, variables that do not coerce, a limit exceeded): the request
// is well-formed HTTP, so application/json answers 200 with the errors,
// and application/graphql-response+json answers 400.
func (m mediaType) requestErrorStatus() int {
	if m == mediaGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// negotiate picks the response media type from an Accept header: the
// supported type with the highest q, the first listed on a tie; */* and
// application/* mean application/json, and so does no Accept at all. ok is
// false when the header names only types kefu cannot produce.
func negotiate(accept string) (m mediaType, ok bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, true
	}
	bestQ := 0.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, set := params["q"]; set {
			if q, err = strconv.ParseFloat(s, 64); err != nil {
				continue
			}
		}
		if cs, set := params["charset"]; set && !strings.EqualFold(cs, "utf-8") {
			continue
		}
		var cand mediaType
		switch mt {
		case contentTypeGraphQLResponse:
			cand = mediaGraphQLResponse
		case contentTypeJSON, "application/*", "*/*":
			cand = mediaJSON
		default:
			continue
		}
		if q > bestQ {
			m, bestQ, ok = cand, q, true
		}
	}
	return m, ok
}

// checkContentType accepts a POST body only as application/json (utf-8, the
// only charset allowed). Anything else — no Content-Type, text/plain,
// form encodings, application/jsonp — is refused: those are the types a
// web page on another origin can send without a CORS preflight, so
// accepting them would let any page drive the API.
func checkContentType(ct string) *Error {
	const want = "Content-Type must be application/json (a browser form, text/plain or a body without a type is refused)"
	if strings.TrimSpace(ct) == "" {
		return badInput("", want)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != contentTypeJSON {
		return badInput("", want)
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return badInput("", "Content-Type application/json takes no parameter but charset=utf-8")
		}
	}
	return nil
}

// Request is the body of a GraphQL POST.
type Request struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
	// Extensions is the request's extensions map, if any (kefu uses none).
	Extensions map[string]any `json:"extensions,omitempty"`
}

// DecodeRequest reads a GraphQL POST body: a JSON object with query (a
// string), and optionally operationName (a string), variables and
// extensions (objects; variables may also be a JSON string holding an
// object, as some clients send), each of them possibly null. A JSON array
// (a batch of operations) is refused: send each operation in its own
// request. Errors are *Error with code BAD_USER_INPUT and say what the body
// should hold.
func DecodeRequest(body []byte) (Request, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return Request{}, badInput("", `the request body is empty: send a JSON object {"query": "…"}`)
	}
	if body[0] == '[' {
		return Request{}, badInput("", "batched requests (a JSON array of operations) are not supported: send each operation in its own request")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return Request{}, badInput("", "the request body is not valid JSON: "+se.Error())
		}
		return Request{}, badInput("", `the request body must be a JSON object {"query": "…", "variables": {…}}`)
	}
	var req Request
	var err *Error
	if req.Query, err = optionalString(raw, "query"); err != nil {
		return Request{}, err
	}
	if req.OperationName, err = optionalString(raw, "operationName"); err != nil {
		return Request{}, err
	}
	if req.Variables, err = decodeVariables(raw["variables"]); err != nil {
		return Request{}, err
	}
	if req.Extensions, err = decodeObject("extensions", raw["extensions"]); err != nil {
		return Request{}, err
	}
	return req, nil
}

// optionalString reads raw[key] as a string; absent and null are "".
func optionalString(raw map[string]json.RawMessage, key string) (string, *Error) {
	v, ok := raw[key]
	if !ok || isNull(v) {
		return "", nil
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", badInput(key, key+" must be a string")
	}
	return s, nil
}

func isNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || string(v) == "null"
}

// decodeVariables reads variables: an object, null, or a JSON string
// holding an object.
func decodeVariables(raw []byte) (map[string]any, *Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, badInput("variables", "variables must be a JSON object")
		}
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		raw = []byte(s)
		if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) && !isNull(raw) {
			return nil, badInput("variables", "variables must be a JSON object (or a string holding one)")
		}
	}
	return decodeObject("variables", raw)
}

// decodeObject reads a JSON object or null.
func decodeObject(name string, raw []byte) (map[string]any, *Error) {
	if isNull(raw) {
		return nil, nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, badInput(name, name+" must be a JSON object")
	}
	return m, nil
}
