package loadgen

import (
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	var samples []time.Duration
	for i := 100; i >= 1; i-- {
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	l := NewLatencies(samples)
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0, time.Millisecond}, {0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond},
		{0.999, 100 * time.Millisecond}, {1, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := l.Quantile(tt.q); got != tt.want {
			t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := Latencies(nil).Quantile(0.5); got != 0 {
		t.Errorf("Quantile of nothing = %v", got)
	}
}
