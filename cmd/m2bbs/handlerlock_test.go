package main

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHandlerLockIsExclusive: while one host holds a handler's lock, a
// second is refused with the holder's PID; once released, it is free.
func TestHandlerLockIsExclusive(t *testing.T) {
	spec := "tcp://127.0.0.1:1/" + t.Name() + strconv.FormatInt(time.Now().UnixNano(), 10)
	release, err := lockHandler(spec)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockHandler(spec)
	if !errors.Is(err, ErrHandlerTaken) || !strings.Contains(err.Error(), "pid ") || !strings.Contains(err.Error(), spec) {
		t.Fatalf("second lock: %v, want ErrHandlerTaken naming the holder and the spec", err)
	}
	release()
	again, err := lockHandler(spec)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again()
	if _, err := lockHandler("inproc://x"); err != nil {
		t.Fatalf("inproc needs no lock: %v", err)
	}
}
