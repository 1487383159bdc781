// Package exchange moves kefu's event log in and out of a data directory:
// the NDJSON envelope format (one stored event per line, see FORMAT.md),
// a CSV rendering of the same envelopes for spreadsheets, and a CSV of
// purchases for migrations from other systems.
//
// Export streams the log in global order in constant memory; personal data
// is decrypted (or, pseudonymized, replaced and its customer IDs hashed).
// Import validates every record of a file before it writes anything, then
// appends per stream with NoStream/Exact expectations and the event IDs of
// the file, so that running the same import twice is a no-op.
package exchange
