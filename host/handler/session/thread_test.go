package session

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestDeepPromptOnASmallRegistry checks that a caller's coroutine, which
// starts with a small value stack, waits for the caller deep in calls and
// carries on with every level's values intact.
func TestDeepPromptOnASmallRegistry(t *testing.T) {
	tbl, rec := newTable(t, "testdata/deep_prompt.lua", nil)
	tbl.Handle(msg("1", "connect"))
	tbl.Handle(msg("1", "yes"))
	expect(t, rec.take(), "1 prompt:deep enough?", "1 screen:got yes", "1 exit:", "1 hangup")
}

func TestThreadOptions(t *testing.T) {
	if got := threadOptions(DefaultLuaOptions); got.RegistrySize != threadRegistrySize || got.RegistryGrowStep != threadRegistryGrowStep ||
		got.RegistryMaxSize != DefaultLuaOptions.RegistryMaxSize || got.CallStackSize != DefaultLuaOptions.CallStackSize {
		t.Errorf("threadOptions(DefaultLuaOptions) = %+v", got)
	}
	fixed := lua.Options{CallStackSize: lua.CallStackSize, RegistrySize: lua.RegistrySize}
	if got := threadOptions(fixed); got != fixed {
		t.Errorf("a fixed registry was changed: %+v", got)
	}
}
