package session

import (
	"github.com/m2bbs/m2bbs/host/handler/throttle"
	"github.com/m2bbs/m2bbs/luaapi"
)

// loginThrottle is the throttle the db module uses: deps.Throttle, or one
// over the store's shared counts.
func loginThrottle(cfg Config, deps Deps) luaapi.LoginThrottle {
	if deps.Throttle != nil {
		return deps.Throttle
	}
	return throttle.New(deps.Store, cfg.Logins, deps.Now)
}
