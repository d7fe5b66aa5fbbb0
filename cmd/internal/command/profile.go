package command

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
)

// StartCPUProfile starts profiling the process into path (the -cpuprofile
// flag of m2bbs host and m2bbs-bench echo); the returned function stops
// and writes the profile, logging a failure to close the file.
func StartCPUProfile(path string) (func(*slog.Logger), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func(log *slog.Logger) {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			log.Error("cpu profile", "err", err)
		}
	}, nil
}
