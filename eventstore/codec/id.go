package codec

import "github.com/google/uuid"

// rootNamespace is kefu's UUIDv5 namespace; namespaces given to
// DeterministicID are derived from it. Changing it changes every
// deterministic ID ever issued: never change it.
func rootNamespace() uuid.UUID {
	return uuid.UUID{0x6b, 0x65, 0x66, 0x75, 0x2d, 0x63, 0x72, 0x6d, 0x8f, 0x1e, 0x4c, 0x3a, 0xa7, 0x05, 0x5d, 0x21}
}

// DeterministicID derives an event ID (UUIDv5, SHA-1 based) from a
// namespace ("idempotency", "greeting-dispatcher", …) and a key within it.
// The same namespace and key always give the same ID, so a retried command
// or a process manager that reacts twice appends events with the same IDs,
// and the store's idempotent append writes them once.
func DeterministicID(namespace, key string) uuid.UUID {
	ns := uuid.NewSHA1(rootNamespace(), []byte(namespace))
	return uuid.NewSHA1(ns, []byte(key))
}
