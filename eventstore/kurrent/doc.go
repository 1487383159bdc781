// Package kurrent is kefu's event store on an EventStoreDB or KurrentDB
// server or cluster, through the official Go client
// (github.com/EventStore/EventStore-Client-Go/v4/esdb); it is the only
// package that imports the client.
//
// Mapping, in one place each (mapping.go):
//
//   - Expected versions: Any → esdb.Any{}, NoStream → esdb.NoStream{},
//     StreamExists → esdb.StreamExists{}, Exact(n) → esdb.StreamRevision{Value: n}
//     (n is the revision of the stream's last event in both).
//   - Events: the record's ID is the event ID, its type the event type,
//     content type JSON, its data the event data. The event metadata is
//     {"$schemaVersion":N,"$occurredAt":"RFC 3339 with ns","meta":<record metadata, verbatim>}.
//     RecordedAt is the server's created time.
//   - Positions: the port's Position is the $all commit position — strictly
//     increasing, not dense. Head is the last non-system event's position.
//   - Reads of $all and subscriptions leave out system events and streams
//     ('$' prefix) and the data-key streams ("kefukey-<id>").
//   - Errors: *esdb.Error found with errors.As and mapped by Code() to
//     the port's sentinels (wrong expected version → ErrConcurrency,
//     resource not found → ErrStreamNotFound, connection closed →
//     ErrClosed) or this package's (ErrUnavailable, ErrAccessDenied,
//     ErrStreamDeleted). Only a read's io.EOF ends a read.
//
// Data keys for crypto-shredding live in per-customer streams of the same
// cluster and are tombstoned on erasure; see Keystore and README.md, which
// also covers running on a 3-node cluster and moving an embedded store
// (kefu migrate).
package kurrent
