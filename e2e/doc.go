// Package e2e holds the journey suite: tests that build cmd/kefu, run it as
// a child process on fresh data directories and free loopback ports, and
// walk each role's day through what a user touches — GraphQL over HTTP,
// /healthz, the CLI and the files it writes — never through the server's
// Go packages.
//
// The journeys (one test each, every one under its own deadline):
//
//   - newcomer: `kefu serve --demo` on ten fresh directories in a row, each
//     ready within a bound, then a restart that keeps everything;
//   - account manager: find a customer, read their history, log a contact,
//     run a complaint to SATISFIED, work the recovery follow-ups, and retry
//     a conflicting write with expectedVersion;
//   - marketing: holidays, preview, schedule, watch the counts, cancel, and
//     an idempotent schedule, under role tokens;
//   - analyst: replay, export, import into a fresh directory, report;
//   - consistency: customer(asOf:), stageHistory, lifecycleReport and
//     `kefu replay --until` agree on the same demo store;
//   - delivery: `kefu serve --sender webhook` posts a due campaign's
//     greetings, signed, to a gateway in the test, `--sender smtp` mails
//     them over STARTTLS to an SMTP server in the test, and every mistake
//     in the sender settings stops the server with exit status 2.
//
// Run it with the rest of the module (`go test -race ./...`) or alone:
//
//	go test -race -count=1 ./e2e/
//
// The binary is built once, without -race, in TestMain.
package e2e
