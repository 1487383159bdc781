package eventstore

import "encoding/json"

func validJSON(b []byte, emptyOK bool) bool {
	if len(b) == 0 {
		return emptyOK
	}
	return json.Valid(b)
}
