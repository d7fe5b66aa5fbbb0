package session

import (
	"github.com/m2bbs/m2bbs/host/store"
	"github.com/m2bbs/m2bbs/host/throttle"
	"github.com/m2bbs/m2bbs/luaapi"
)

// loginThrottle is the throttle the db module uses: deps.Throttle, or one
// over the store's shared counts.
func loginThrottle(cfg Config, deps Deps) luaapi.LoginThrottle {
	if deps.Throttle != nil {
		return deps.Throttle
	}
	if st, ok := deps.Store.(store.Throttles); ok {
		return throttle.New(st, cfg.Logins, deps.Now)
	}
	return nil
}
