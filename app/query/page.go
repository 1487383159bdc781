package query

import (
	"encoding/base64"

	"github.com/kefu-crm/kefu/domain/aggregate"
)

// Cursors are opaque: base64 of an ID, a revision or a position.
func encodeCursor(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 {
		return "", badCursor()
	}
	return string(b), nil
}

func badCursor() error {
	return &aggregate.InvalidInputError{Field: "after", Reason: "is not a cursor this API returned"}
}

// ---- complaints ----
