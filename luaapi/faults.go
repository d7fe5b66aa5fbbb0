package luaapi

import (
	"context"
	"errors"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// FaultReporter is told of each store fault a script's call met (the disk
// full, the database failing or too slow), with the error as the store
// gave it, on the L of the caller whose call it was: the host logs and
// counts them. The script itself gets nil and a plain message (see
// storeFault).
type FaultReporter func(L *lua.LState, err error)

// faultReporterKey is where Open keeps the FaultReporter in the registry.
const faultReporterKey = "m2bbs.fault_reporter"

// setFaultReporter keeps report in L's registry, for every module.
func setFaultReporter(L *lua.LState, report FaultReporter) {
	if report == nil {
		return
	}
	ud := L.NewUserData()
	ud.Value = report
	L.SetField(L.Get(lua.RegistryIndex), faultReporterKey, ud)
}

// reportFault tells L's FaultReporter, if any, of err.
func reportFault(L *lua.LState, err error) {
	if ud, ok := L.GetField(L.Get(lua.RegistryIndex), faultReporterKey).(*lua.LUserData); ok {
		if report, ok := ud.Value.(FaultReporter); ok {
			report(L, err)
		}
	}
}

// storeFault is a store fault as scripts see it: a message a caller may be
// shown, with the store's error (which may name files and SQL) kept for
// errors.Is and the log.
type storeFault struct{ err error }

func (f *storeFault) Error() string {
	if errors.Is(f.err, store.ErrFull) {
		return "the board's disk is full"
	}
	if errors.Is(f.err, context.DeadlineExceeded) {
		return "the board's database is too slow just now; try again later"
	}
	return "the board's database failed; try again later"
}

func (f *storeFault) Unwrap() error { return f.err }

// asStoreFault reports err and returns it as a storeFault if it is a store
// fault: store.ErrFault, or the call's own deadline passing while the
// caller's script was not being stopped (parent not done). Other errors,
// expected failures, come back unchanged.
func asStoreFault(L *lua.LState, parent context.Context, err error) error {
	if err == nil {
		return nil
	}
	deadline := errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil
	if !errors.Is(err, store.ErrFault) && !deadline {
		return err
	}
	reportFault(L, err)
	return &storeFault{err}
}
