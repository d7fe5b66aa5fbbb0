package dispatch

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/m2bbs/m2bbs/host/handler/transfer"
)

// initTransfers makes the host's file transfer runner (the transfer
// module), in Config.TransfersDir, when lrzsz's sz and rz are installed;
// without them the board has no transfers, and says so in the log.
func (h *Host) initTransfers() {
	for _, prog := range []string{"sz", "rz"} {
		if _, err := exec.LookPath(prog); err != nil {
			h.log.Info("file transfers off: lrzsz is not installed", "missing", prog)
			return
		}
	}
	root := h.cfg.TransfersDir
	if root == "" {
		root = filepath.Join(os.TempDir(), "m2bbs-transfers-"+strconv.Itoa(os.Getpid()))
	}
	r, err := transfer.New(transfer.Config{Root: root, Log: h.log})
	if err != nil {
		h.log.Warn("file transfers off", "err", err)
		return
	}
	h.transfers = r
}

// closeTransfers removes the transfers' folder of the host's own (no
// Config.TransfersDir): the workers have stopped. A line's folder is
// kept: callers resumed after the restart go on with what they received.
func (h *Host) closeTransfers() {
	if h.transfers == nil || h.cfg.TransfersDir != "" {
		return
	}
	if err := os.RemoveAll(h.transfers.Limits().Root); err != nil {
		h.log.Warn("transfers folder not removed", "err", err)
	}
}
