package dispatch

import (
	"errors"
	"net/http"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// WaitingUser is a new user waiting for the sysop's approval, as the
// approve action lists them.
type WaitingUser struct {
	Name       string    `json:"name"`
	Registered time.Time `json:"registered"`
}

// answerApprove is the sysop's approval of new users (new_users_wait):
// without ?name it lists the users waiting, oldest first
// ({"waiting": [...]}); with ?name=NAME it approves that user.
func (h *Host) answerApprove(r *http.Request) (int, []byte) {
	if h.deps.Store == nil {
		return http.StatusNotImplemented, []byte("this host has no store\n")
	}
	ctx := r.Context()
	name := r.URL.Query().Get("name")
	if name == "" {
		list, err := h.deps.Store.Waiting(ctx, store.MaxListed)
		if err != nil {
			h.log.Error("approve: the users waiting could not be read", "err", err)
			return http.StatusInternalServerError, []byte("the users waiting could not be read\n")
		}
		out := make([]WaitingUser, 0, len(list))
		for _, a := range list {
			out = append(out, WaitingUser{Name: a.Name, Registered: a.Registered})
		}
		return http.StatusOK, jsonLine(map[string][]WaitingUser{"waiting": out})
	}
	err := h.deps.Store.Approve(ctx, name)
	switch {
	case errors.Is(err, store.ErrNoSuchUser):
		return http.StatusNotFound, []byte("no user by that name\n")
	case errors.Is(err, store.ErrNotWaiting):
		return http.StatusConflict, []byte("that user is not waiting for approval\n")
	case err != nil:
		h.log.Error("approve: failed", "name", name, "err", err)
		return http.StatusInternalServerError, []byte("the approval could not be stored\n")
	}
	h.log.Info("sysop approved a new user", "name", name)
	return http.StatusOK, jsonLine(map[string]string{"approved": name})
}
