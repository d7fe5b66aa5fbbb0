package session

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func TestVMContextStopsARunawayLoop(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	ctx, cancel := newVMContext()
	L.SetContext(ctx)
	time.AfterFunc(20*time.Millisecond, cancel)
	err := L.DoString(`while true do end`)
	if err == nil || !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("loop ended with %v, ctx.Err %v; want stopped by the cancel", err, ctx.Err())
	}
}

func TestVMContextIsAParentLikeAnyOther(t *testing.T) {
	ctx, cancel := newVMContext()
	if ctx.Done() != ctx.Done() {
		t.Fatal("Done returns another channel on each call")
	}
	before := runtime.NumGoroutine()
	var children []context.Context
	for range 100 {
		child, stop := context.WithCancel(ctx)
		defer stop()
		children = append(children, child)
	}
	if n := runtime.NumGoroutine() - before; n > 10 {
		t.Errorf("deriving 100 contexts started %d goroutines: they should register with the parent", n)
	}
	cancel()
	for _, child := range children {
		select {
		case <-child.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("a derived context was not cancelled with its parent")
		}
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("Err = %v, want context.Canceled", ctx.Err())
	}
}
