//go:build !unix

package rebuildbench_test

import "time"

// cpuTime is not measured on this platform.
func cpuTime() time.Duration { return 0 }
