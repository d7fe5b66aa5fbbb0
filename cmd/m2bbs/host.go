package main

import (
	"context"
	"io"
)

// runHost is "m2bbs host": the handler alone, connecting to a Mongrel2
// configured with the same send_spec and recv_spec.
func runHost(ctx context.Context, args []string, stderr io.Writer) error {
	s, err := parseSettings("host", args, stderr, nil)
	if err != nil {
		return err
	}
	return serve(ctx, s, nil, s.logger(stderr), nil)
}
