package codec

import "encoding/json"

// marshal and unmarshal are the JSON implementation the codec uses; one
// place to swap it.
func marshal(v any) ([]byte, error) { return json.Marshal(v) }

func unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
