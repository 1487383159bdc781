//go:build !unix

package server_test

import "time"

// processCPU is not measured here (see cpu_unix_test.go).
func processCPU() (time.Duration, bool) { return 0, false }
