package loadgen

import (
	"math"
	"slices"
	"time"
)

// Latencies are round-trip times, sorted from fastest to slowest.
type Latencies []time.Duration

// NewLatencies sorts samples (in place) into Latencies.
func NewLatencies(samples []time.Duration) Latencies {
	slices.Sort(samples)
	return Latencies(samples)
}

// Quantile returns the smallest sample that at least q (0 to 1) of the
// samples do not exceed: Quantile(0.99) is the 99th percentile. It is 0
// without samples.
func (l Latencies) Quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(l)))) - 1
	return l[min(max(i, 0), len(l)-1)]
}
