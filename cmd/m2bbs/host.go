package main

import (
	"context"
	"io"
)

// runHost is "m2bbs host": the handler alone, connecting to a Mongrel2
// configured with the same send_spec and recv_spec.
func runHost(ctx context.Context, args []string, stderr io.Writer) error {
	var lo lineOptions
	s, err := parseSettings("host", args, stderr, lo.flags)
	if err != nil {
		return err
	}
	lo.apply(s)
	if err := applyLineDefaults(s); err != nil {
		return err
	}
	return serve(ctx, s, nil, s.logger(stderr), nil)
}
