// Command logger is proctest's process under test: it logs its build tags
// and "ready" to standard error, then waits for SIGTERM and logs "bye".
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	tags := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-tags" {
				tags = s.Value
			}
		}
	}
	fmt.Fprintf(os.Stderr, "tags=%q\n", tags)
	fmt.Fprintln(os.Stderr, "logger ready")
	<-stop
	fmt.Fprintln(os.Stderr, "bye")
}
