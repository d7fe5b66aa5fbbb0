package main

import (
	"testing"
	"time"
)

// TestALoginHashHoldsUpNoOneElse: with one Lua worker and a slow bcrypt
// cost, a caller at the main menu keeps getting answers while another
// caller's registration hashes (before, the hash ran on the worker and
// the menu waited for it).
func TestALoginHashHoldsUpNoOneElse(t *testing.T) {
	b := startBBS(t, viaBuiltIn, "", "-workers", "1", "-hash-workers", "1", "-bcrypt-cost", "12", "-rate", "1000", "-burst", "1000")
	bob := b.call(t)
	arrive(t, bob, "bob", "password1", "password1", "y")

	ann := b.call(t)
	arrive(t, ann, "ann", "password2")
	if err := ann.Send("password2"); err != nil { // the hash starts
		t.Fatal(err)
	}
	annGoesOn := make(chan error, 1)
	go func() {
		_, err := ann.Next(readTimeout)
		annGoesOn <- err
	}()
	answered := 0
	for {
		select {
		case err := <-annGoesOn:
			if err != nil {
				t.Fatalf("ann after her hash: %v", err)
			}
			// An answer may come before the hash begins, and one queued
			// behind it may leave with ann's (a hash on the worker gave
			// 2); at cost 12 a hash off the worker leaves time for
			// dozens.
			if answered < 5 {
				t.Errorf("bob had %d answers while ann's password hashed", answered)
			}
			t.Logf("bob had %d answers while ann's password hashed", answered)
			return
		default:
		}
		start := time.Now()
		visit(t, bob, "5")
		if time.Since(start) > readTimeout/2 {
			t.Fatalf("bob waited %v", time.Since(start))
		}
		answered++
	}
}
