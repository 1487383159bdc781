// Package projections runs kefu's read models and process managers off the
// event store's global log.
//
// # Design
//
// The store is the only source of events. Commands append to it and nothing
// else; there is no append-then-publish dual write. A Runtime follows the
// log and feeds every registered Projection, each event once, in global
// order:
//
//  1. Restore. A durable projection (one that implements Snapshotter) is
//     restored from its checkpoint file: a snapshot of its state and the
//     position that snapshot reflects, saved together in one file (package
//     checkpoint: temp file, fsync, rename, directory fsync). Other
//     projections start empty.
//  2. Catch-up, without watermill. Every projection is brought to the log's
//     head by a pipeline built for speed: one goroutine reads the log
//     (ReadAll), parallel workers decode batches of events (decoding is the
//     expensive part), and one goroutine per projection applies the decoded
//     batches strictly in global order. Rebuild is the same pipeline from
//     zero.
//  3. Live, through watermill. A forwarder subscribes to the store after the
//     lowest checkpoint and publishes each event to a watermill topic (UUID =
//     event ID; metadata stream, type, revision, position, occurredAt,
//     recordedAt, schemaVersion, metadata; payload = the stored JSON). Each
//     projection is one cqrs group handler, named after the projection, on a
//     router with middleware.Recoverer. With the default in-process gochannel
//     pub/sub, each publish blocks until every handler has acked it, so the
//     forwarder is never more than one event ahead of the slowest handler
//     (back-pressure) and every handler sees events in log order.
//
// # Read models and process managers
//
// Read models are in memory. A checkpoint of an in-memory model is
// worthless without its state, so read models simply rebuild from zero at
// every start (step 2 is fast) and keep their checkpoint in memory.
//
// Process managers (follow-up scheduler, greeting dispatcher) must not act
// twice, so they are Snapshotters: their state — including what they have
// already acted on — and their position are saved atomically every
// FlushInterval, at the end of catch-up and at shutdown, and a restart
// resumes after the saved position with the saved state. Nothing between
// the checkpoint and a crash is lost from the state's point of view (it is
// replayed), but an external effect performed in that window happens again
// on replay; process managers therefore give the commands they issue
// deterministic event IDs derived from the triggering event (for example
// uuid.NewSHA1 of the position), so that the replayed append is an
// idempotent retry in the store. A read model too slow to rebuild at start
// can opt into snapshots the same way.
//
// # Failures
//
// An event a projection cannot decode, or that its Apply rejects (or panics
// on), stops that projection with a *StoppedError naming the position; it is
// never skipped and never retried. The other projections keep running.
// Status reports the stopped state and error (for /healthz), and WaitFor
// returns the error instead of blocking. Projections that implement Filter
// do not decode the event types they do not want, so a bad event only stops
// the projections that care about it. A stopped projection resumes only
// after a restart with a fixed decoder or projection.
//
// # Consistency for the API
//
// After an append, the API calls WaitFor with the append's position so the
// mutation's response reflects its own write. Status gives each
// projection's lag in events (head − checkpoint) and in seconds (now −
// recordedAt of the last applied event, 0 when caught up).
//
// # Requirements on collaborators
//
// Apply must return (and should honour ctx): shutdown waits for an in-flight
// Apply before saving checkpoints. The catch-up pipeline keeps the events
// ReadAll hands it after the callback returns, so a store must not reuse an
// event's Data or Metadata between callbacks (memstore and the embedded
// store allocate them per event).
//
// Names (Projection.Name, the topic) are permanent: they name the watermill
// handlers and groups and the checkpoint files.
package projections
