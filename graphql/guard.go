package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	gql "github.com/graphql-go/graphql"
)

// graphql-go's Execute stops waiting when the request's context ends, but
// the goroutine that resolves fields runs on to the end of the document.
// guardResolvers makes that end come at once: every resolver of the
// schema's own types first checks the request's context, so once the
// deadline passes, the client goes away or the answer grows past its limit,
// each remaining field fails in a few instructions instead of reading a
// read model. (Introspection resolvers belong to graphql-go and are not
// wrapped; what they can produce is bounded by their complexity price.)

// guardResolvers wraps the resolvers of every object type of schema that
// is not introspection. The schema's types must be its own (NewSchema
// builds fresh ones per call), and this must run before it serves.
func guardResolvers(schema gql.Schema) {
	for name, t := range schema.TypeMap() {
		obj, ok := t.(*gql.Object)
		if !ok || strings.HasPrefix(name, "__") {
			continue
		}
		for fname, def := range obj.Fields() {
			def.Resolve = guarded(fname, def.Resolve)
		}
	}
}

func guarded(name string, next gql.FieldResolveFn) gql.FieldResolveFn {
	if next == nil {
		next = gql.DefaultResolveFn
	}
	// "name":value, — the key, its quotes, colon and comma.
	keyCost := int64(len(name) + 4)
	return func(p gql.ResolveParams) (any, error) {
		ctx := p.Context
		if ctx != nil && ctx.Err() != nil {
			return nil, interruption(ctx)
		}
		v, err := next(p)
		if m := meterFrom(ctx); m != nil {
			cost := keyCost + valueSize(v)
			if len(p.Info.FieldASTs) > 0 && p.Info.FieldASTs[0].Alias != nil {
				cost += int64(len(p.Info.FieldASTs[0].Alias.Value))
			}
			if !m.add(cost) {
				return nil, interruption(ctx)
			}
		}
		return v, err
	}
}

// errResponseTooLarge is the cause of a request's end when its answer grew
// past MaxResponseBytes.
var errResponseTooLarge = errors.New("response too large")

// meter estimates the size of one request's answer as its fields resolve,
// and ends the request (with cause errResponseTooLarge) past max bytes.
type meter struct {
	bytes atomic.Int64
	max   int64
	stop  context.CancelCauseFunc
}

type meterKey struct{}

// withMeter returns a context that ends with the request's, or when its
// answer would exceed maxBytes; release it with the returned func.
func withMeter(ctx context.Context, maxBytes int) (context.Context, context.CancelCauseFunc) {
	ctx, stop := context.WithCancelCause(ctx)
	m := &meter{max: int64(maxBytes), stop: stop}
	return context.WithValue(ctx, meterKey{}, m), stop
}

func meterFrom(ctx context.Context) *meter {
	if ctx == nil {
		return nil
	}
	m, _ := ctx.Value(meterKey{}).(*meter)
	return m
}

// add counts n more bytes; false once the answer is over its limit.
func (m *meter) add(n int64) bool {
	if m.bytes.Add(n) <= m.max {
		return true
	}
	m.stop(errResponseTooLarge)
	return false
}

// valueSize estimates the JSON size of what a resolver returned, not
// counting what its sub-selection adds (those fields count themselves).
func valueSize(v any) int64 {
	switch v := v.(type) {
	case nil:
		return 4
	case string:
		return int64(len(v)) + 2
	case *string:
		if v == nil {
			return 4
		}
		return int64(len(*v)) + 2
	case bool, *bool:
		return 5
	case int, int32, int64, float64, *int, *float64:
		return 20
	case time.Time, *time.Time:
		return 37
	case json.RawMessage:
		return int64(len(v)) + 2
	case []string:
		n := int64(2)
		for _, s := range v {
			n += int64(len(s)) + 3
		}
		return n
	case map[string]any, []any, float32, json.Number:
		return jsonSize(v) // a JSON scalar's decoded value
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		return 2 + int64(rv.Len())*3
	}
	return 2
}

// interruption is the error a guarded resolver returns once ctx has ended.
func interruption(ctx context.Context) error {
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errResponseTooLarge):
		var max int64
		if m := meterFrom(ctx); m != nil {
			max = m.max
		}
		return &Error{Code: CodeBadUserInput,
			Message: fmt.Sprintf("the answer would be larger than %d bytes: select fewer fields, or ask for smaller pages with first/after", max),
			Details: map[string]any{"limit": "maxResponseBytes", "max": max}}
	case errors.Is(cause, context.DeadlineExceeded):
		return &Error{Code: CodeTimeout, Message: "request timed out"}
	default:
		return &Error{Code: CodeCancelled, Message: "request cancelled"}
	}
}

// jsonSize estimates the encoded size of a decoded JSON value.
func jsonSize(v any) int64 {
	switch v := v.(type) {
	case map[string]any:
		n := int64(2)
		for k, e := range v {
			n += int64(len(k)) + 4 + jsonSize(e)
		}
		return n
	case []any:
		n := int64(2)
		for _, e := range v {
			n += 1 + jsonSize(e)
		}
		return n
	case string:
		return int64(len(v)) + 2
	case json.Number:
		return int64(len(v))
	case nil:
		return 4
	}
	return 20
}
