package campaign

import (
	"fmt"
	"strings"
)

// The placeholders a template body may use.
const (
	PlaceholderName     = "name"
	PlaceholderOccasion = "occasion"
)

// ParseTemplate checks a template body: every "{{" opens a placeholder
// closed by "}}", and the only placeholders are {{name}} and {{occasion}}
// (spaces inside the braces are allowed). It returns an *aggregate.InvalidInputError
// for field.
func ParseTemplate(field, body string) error {
	rest := body
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if strings.Contains(rest, "}}") {
				return invalid(field, nil, "a \"}}\" closes no placeholder")
			}
			return nil
		}
		if strings.Contains(rest[:i], "}}") {
			return invalid(field, nil, "a \"}}\" closes no placeholder")
		}
		rest = rest[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return invalid(field, nil, "a \"{{\" is not closed")
		}
		name := strings.TrimSpace(rest[:j])
		if name != PlaceholderName && name != PlaceholderOccasion {
			return invalid(field, nil, "unknown placeholder {{%s}} (only {{name}} and {{occasion}})", name)
		}
		rest = rest[j+2:]
	}
}

// Render replaces the placeholders of a body that ParseTemplate accepted.
// Text that is not a known placeholder is copied as is.
func Render(body, name, occasion string) string {
	var b strings.Builder
	b.Grow(len(body) + len(name) + len(occasion))
	rest := body
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			b.WriteString(rest)
			return b.String()
		}
		b.WriteString(rest[:i])
		switch strings.TrimSpace(rest[i+2 : i+2+j]) {
		case PlaceholderName:
			b.WriteString(name)
		case PlaceholderOccasion:
			b.WriteString(occasion)
		default:
			b.WriteString(rest[i : i+2+j+2])
		}
		rest = rest[i+2+j+2:]
	}
}

// sendAtLocal parses "HH:MM" into minutes after midnight.
func parseHHMM(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	h, okh := twoDigits(s[0:2])
	m, okm := twoDigits(s[3:5])
	if !okh || !okm || h > 23 || m > 59 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return h*60 + m, nil
}

func twoDigits(s string) (int, bool) {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// ParseClock parses "HH:MM" (00:00–23:59) into minutes after midnight.
func ParseClock(s string) (int, error) { return parseHHMM(s) }
