package main

import (
	"context"
	"log/slog"

	"github.com/m2bbs/m2bbs/host/handler/ftn"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/luaapi"
)

// ftnStore is what the FTN service needs of the store.
type ftnStore interface {
	store.FTN
	ftn.AreaDefiner
}

// startFTN starts the FidoNet side of the board when the settings have an
// ftn table: binkd supervised, toss, scan and polls, until ctx ends. It
// runs on the classic host and on phone line 1 (one binkd per board);
// other lines get a passive view of it (ftn.Passive). It returns the FTN
// host for the ftn Lua module and dispatch.Deps.FTN (nil when FTN is
// off), and stop, which ends the service and waits until binkd is
// stopped.
func startFTN(ctx context.Context, s *settings, db ftnStore, log *slog.Logger) (host luaapi.FTNHost, stop func(), err error) {
	if s.FTN == nil {
		return nil, func() {}, nil
	}
	set, err := ftn.ParseSettings(s.FTN, s.localAnchor())
	if err != nil {
		return nil, nil, err
	}
	log = log.With("ftn", set.Addresses[0].String())
	if s.line > 1 {
		return &ftn.Passive{Settings: &set, Store: db, Log: log}, func() {}, nil
	}
	svc := &ftn.Service{Settings: &set, Store: db, Areas: db, Log: log}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := svc.Run(ctx); err != nil {
			log.Error("ftn: stopped", "err", err)
		}
	}()
	stop = func() {
		cancel()
		<-done
	}
	return svc, stop, nil
}
