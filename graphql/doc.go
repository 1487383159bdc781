// Package graphql is kefu's GraphQL API: the schema of the contract
// (shared/schema.graphql) built with graphql-go, and its HTTP handler.
//
// NewSchema(Deps) assembles the schema from per-area field maps over small
// ports (CustomerReader, ComplaintReader, …, Commands) that return plain
// view structs; resolvers only read views and mutations only call Commands.
// NewHandler serves it over HTTP with a parse/validate cache, depth and
// complexity limits, a body limit, a per-request timeout, bearer-token
// authentication and a built-in explorer page for browsers.
//
// # Errors
//
// Every error carries extensions.code: BAD_USER_INPUT, NOT_FOUND, CONFLICT,
// FAILED_PRECONDITION, UNAUTHENTICATED, FORBIDDEN, INTERNAL, or for a
// request stopped on the way TIMEOUT or CANCELLED, or UNAVAILABLE (503)
// while the server cannot answer from the whole log. Ports signal
// the class by wrapping ErrBadInput, ErrNotFound, ErrConflict,
// ErrPrecondition or ErrForbidden; anything else is INTERNAL, logged with
// slog and shown as "internal error". graphql-go's own errors (syntax,
// validation, variable coercion, a wrong enum value, a missing argument)
// are BAD_USER_INPUT.
//
// # GraphQL over HTTP
//
// The handler follows the GraphQL-over-HTTP specification (checked by Go
// mirrors of the graphql-http audit). The response media type is
// negotiated from Accept: application/graphql-response+json when the
// client ranks it highest (urql, graphql-request, Apollo Client 4),
// application/json otherwise (*/*, no Accept, Apollo Client 3); an Accept
// naming neither is 406. A request refused before execution — a body that
// is not a JSON object, a non-string query or operationName, variables or
// extensions that are not objects, a missing query, a syntax or validation
// error, a document over one of its Limits, depth or complexity over the
// limit, an answer over MaxResponseBytes, variables that do not coerce,
// an unknown operation name — has no data entry, only errors, and is
//
//	application/json                    → 200 (the errors say what is wrong)
//	application/graphql-response+json   → 400
//
// Once execution has started the answer is 200 with data (null where a
// field failed) and the field errors. HTTP-level refusals are the same in
// both media types:
//
//	missing or unknown bearer token             → 401 UNAUTHENTICATED
//	mutation over GET, method not GET/POST      → 405 BAD_USER_INPUT
//	Accept without a JSON type                  → 406 BAD_USER_INPUT
//	body over MaxBodyBytes (1 MiB)              → 413 BAD_USER_INPUT
//	Content-Type not application/json (POST)    → 415 BAD_USER_INPUT
//	past HandlerConfig.Timeout                  → 503 TIMEOUT
//	client gone before the answer               → 503 CANCELLED
//	starting, a read model stopped, damaged log → 503 UNAVAILABLE
//
// Only application/json (charset utf-8 if any) is read as a POST body:
// text/plain, forms, a body without a type and look-alikes such as
// application/jsonp are refused, so a web page on another origin cannot
// send a request without a CORS preflight. A JSON array (a batch of
// operations) is refused with a message saying to send one operation per
// request.
//
// # Browsers
//
// Guard (see BrowserPolicy) sits in front of every route: without
// authentication the Host header must name loopback (DNS rebinding is
// refused with 403), a request whose Origin is neither the server's own
// nor one of --cors-origin is 403 before anything runs, and listed
// origins get CORS preflights and Access-Control-Allow-Origin (no
// cookies: the token travels in Authorization).
//
// # Introspection
//
// Introspection serves argument and input-field defaults as GraphQL
// literals (graphql-go v0.8.1 prints enum and list defaults as strings;
// see introspection.go) and answers the newer introspection fields
// (specifiedByURL, isOneOf, isRepeatable, input-value isDeprecated and
// deprecationReason, __schema.description, includeDeprecated on args and
// inputFields), so GraphiQL 3+, graphql-codegen and buildClientSchema read
// the schema whole.
//
// # The contract and what was added
//
// The schema keeps shared/schema.graphql field for field and only adds.
// PrintSDL (kefu schema) prints the served schema and marks the additions,
// AddedAfterContract:
//
//	Query.previewGreetingCampaign    → CampaignPreview, KeyCount
//	Query.serviceReport              → ServiceReport
//	Query.viewer                     → Viewer, Role
//	Mutation.transferComplaint       → TransferComplaintInput
//	Complaint.version, Complaint.replyDueProvisional
//	GreetingCampaign.excluded, GreetingCampaign.excludedByReason
//
// # Access control
//
// With HandlerConfig.Tokens set, each request needs "Authorization: Bearer
// <token>"; the token maps to an Actor{User, Role} (see AuthFile for the
// --auth file format). Without Tokens every caller is LocalActor, an ADMIN
// named "local" — only safe on loopback. The actor is passed to every
// Commands method so that it is recorded in the events' metadata.
//
//	                                   ADMIN  ACCOUNT_MANAGER  MARKETING  ANALYST
//	read customers, complaints, …        ✓           ✓              ✓         ✓
//	see PII (name, phone, email,         ✓           ✓              ✓         –  (null / removed)
//	  birthday, descriptions, notes,
//	  summaries, comments, event data)
//	customers(filter: {search})          ✓           ✓              ✓         FORBIDDEN
//	customer mutations (register,        ✓           ✓              –         –
//	  updateProfile, consent, contact,
//	  purchase, referral, grumble,
//	  satisfaction, markLost, flag,
//	  mergeCustomers, unmergeCustomers)
//	complaint mutations                  ✓           ✓              –         –
//	follow-up mutations                  ✓           ✓              –         –
//	schedule/cancel greeting campaigns   ✓           –              ✓         –
//	previewGreetingCampaign (read-only)  ✓           ✓              ✓         ✓
//	eraseCustomer                        ✓           –              –         –
//
// A refused mutation is FORBIDDEN and reaches no command. For ANALYST the
// PII fields resolve to null, timeline summaries use the view's
// SafeSummary, and event data loses the keys name, phone, email, wechat,
// birthday, summary, description, comment and note.
//
// # Protection
//
// graphql-go's parser and validation take time far from linear in small
// documents, and cannot be interrupted, so a document is bounded before
// they see it (see Limits): its text is scanned for bytes, tokens, nesting
// of values and selections, aliases, arguments and fragments; the parsed
// document is checked for fragment cycles, its size with fragments inlined,
// root fields, fields repeated under one response name, and query depth
// (default 15) — all in time linear in the document, fragments memoised.
// Validation stops after 50 errors. Complexity (default 25 000) is checked
// before execution: each field costs 1 and a field's selection is
// multiplied by its `first` (or the argument's default) or, for other
// lists, by 10; introspection is priced by what it returns from the schema;
// the arithmetic saturates. During execution every resolver of the schema
// first checks the request's context, so work stops at the deadline, when
// the client leaves, or when the answer passes MaxResponseBytes.
// Every `first` is capped at Deps.MaxFirst (default 500): a larger value is
// BAD_USER_INPUT, not silently clamped. occurredAt more than 5 s ahead of
// the server clock is BAD_USER_INPUT.
//
// # Cache
//
// Parsed and validated documents are kept in an LRU keyed by the query
// text (1024 entries and 8 MiB of query text by default); a hit skips
// parsing, the document's limits and validation, leaving execution only.
package graphql
