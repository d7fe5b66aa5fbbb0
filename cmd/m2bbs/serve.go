package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pebbe/zmq4"

	"github.com/m2bbs/m2bbs/cmd/internal/command"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/handler/throttle"
	"github.com/m2bbs/m2bbs/host/wire/zmqtransport"
)

// serve runs the host over a ZeroMQ connection to the front end at the
// addresses in s until ctx is done. ready, if not nil, is called once the
// front end listens to the host's replies.
//
// zctx, if not nil, is the ZeroMQ context shared with a front end in the
// same process (for inproc:// addresses).
func serve(ctx context.Context, s *settings, zctx *zmq4.Context, log *slog.Logger, ready func()) error {
	if s.cpuProfile != "" {
		stop, err := command.StartCPUProfile(s.cpuProfile)
		if err != nil {
			return err
		}
		defer stop(log)
	}
	servers, err := doorServers(s)
	if err != nil {
		return err
	}
	release, err := lockLineHandler(ctx, s, log)
	if err != nil {
		return err
	}
	defer release()
	db, err := store.Open(s.DBPath, store.Options{BcryptCost: s.BcryptCost, Log: log, Sync: s.Sync, NewUsersWait: s.NewUsersWait})
	if err != nil {
		return err
	}
	defer db.Close()

	transport, err := zmqtransport.DialHandler(zmqtransport.HandlerConfig{
		SendSpec: s.SendSpec, RecvSpec: s.RecvSpec, Identity: s.SenderID, Context: zctx, Log: log,
		PeerGone: dispatch.FrontEndGoneNote,
	})
	if err != nil {
		return fmt.Errorf("connect to front end: %w", err)
	}
	defer transport.Close()
	var directory dispatch.Transport
	if s.directorySendSpec != "" {
		dt, err := zmqtransport.DialHandler(zmqtransport.HandlerConfig{
			SendSpec: s.directorySendSpec, RecvSpec: s.directoryRecvSpec, Context: zctx, Log: log,
		})
		if err != nil {
			return fmt.Errorf("connect to the lines directory handler: %w", err)
		}
		defer dt.Close()
		directory = dt
	}

	ftnHost, stopFTN, err := startFTN(ctx, s, db, log)
	if err != nil {
		return err
	}
	defer stopFTN()
	var ftnStatus func(context.Context) any
	if ftnHost != nil {
		ftnStatus = func(ctx context.Context) any { return ftnHost.Status(ctx) }
	}
	bell, stopBell, err := sharedEventsBell(ctx, s, log)
	if err != nil {
		return err
	}
	defer stopBell()
	fileAreas, err := openFiles(s, db, log)
	if err != nil {
		return err
	}
	if len(s.timeLimits) > 0 {
		log.Info("time limits", "limits", s.TimeLimits, "time_zone", s.timeZone.String())
	}
	h, err := dispatch.New(transport, dispatch.Config{
		Session: session.Config{
			ScriptsDir:    s.ScriptsDir,
			MainScript:    s.MainScript,
			IdleTimeout:   s.IdleTimeout,
			ResumeBudget:  s.ResumeBudget,
			MaxLineBytes:  s.MaxLineBytes,
			RatePerSecond: s.RatePerSecond,
			RateBurst:     s.RateBurst,
			Journal:       !s.NoJournal,
			Logins: throttle.Policy{
				MinPassword: s.MinPassword, RegistrationsPerAddr: s.RegistrationsPerHour, RegistrationWindow: time.Hour,
				FreePerAddr: s.LoginsPerAddress,
			},
			GatewayKey:    s.gatewayKey,
			KeyLogins:     s.keyLogins,
			RemoteCallers: s.remoteCallers,
			RemoteEntries: s.remoteEntries,
			DoorServers:   servers,
			TimeLimits:    s.timeLimits,
			TimeZone:      s.timeZone,
			EventsScript:  filepath.Join(s.ScriptsDir, "events.lua"),
			FTN:           ftnHost,
			Files:         fileAreas,

			HibernateAfter: s.HibernateAfter,
		},
		RawFrames:   s.RawFrames,
		ScreensDir:  s.ScreensDir,
		Workers:     s.Workers,
		HashWorkers: s.HashWorkers,
		HashNice:    s.hashNice,
		HashSlice:   s.hashSlice,
		MaxCallers:  s.MaxCallers,
		MemoryLimit: uint64(max(s.MemoryLimitMiB, 0)) << 20,
		SysopToken:  s.SysopToken,
		Line:        s.line,
		SenderID:    s.SenderID,

		// Pages of these sites may open WebSockets behind Mongrel2.
		WebSocketOrigins:  s.origins(),
		FrontEndPIDFile:   s.Mongrel2PIDFile,
		FrontEndElsewhere: remoteSpec(s.SendSpec),
		DoorsDir:          doorsDir(s),
		TransfersDir:      transfersDir(s),
	}, dispatch.Deps{Store: db, Log: log, Lines: db, Directory: directory, Drain: s.drain, Events: db, FTN: ftnStatus,
		AdoptLine: lineAdopter(s, zctx, log), Bell: bell, Files: fileAreas})
	if err != nil {
		return err
	}
	if s.onHost != nil {
		s.onHost(s.line, h)
	}
	go func() {
		select {
		case <-h.Ready():
			log.Info("host ready", "line", s.line, "send_spec", s.SendSpec, "recv_spec", s.RecvSpec, "sender_id", s.SenderID,
				"main", s.MainScript, "db", store.RedactDSN(s.DBPath))
			if ready != nil {
				ready()
			}
		case <-ctx.Done():
		}
	}()
	return h.Run(ctx)
}

// transfersDir is the folder of the line's file transfers, beside the
// doors' (what callers received is kept across a restart); "" (a
// temporary folder) for a database in memory.
func transfersDir(s *settings) string {
	if dir := doorsDir(s); dir != "" {
		return filepath.Join(filepath.Dir(filepath.Dir(dir)), "transfers", "line"+strconv.Itoa(s.line))
	}
	return ""
}

// doorsDir is the folder of the line's native doors, beside the database,
// so that the next host on the line finds what a killed one left; "" (the
// system's temporary folder) for a database in memory.
func doorsDir(s *settings) string {
	if s.DBPath == "" || strings.HasPrefix(s.DBPath, ":memory:") || strings.HasPrefix(s.DBPath, "file:") {
		return ""
	}
	return filepath.Join(filepath.Dir(s.localAnchor()), "doors", "line"+strconv.Itoa(s.line))
}
