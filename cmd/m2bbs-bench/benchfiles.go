package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/m2bbs/m2bbs/cmd/internal/filelink"
	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/report"
	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/frontend"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
)

// The files step: one large HTTP download from the board's file areas
// (docs/files.md) while a second caller's menu is timed.
const (
	// filesBytes is the size of the file downloaded.
	filesBytes = 64 << 20
	// filesRate is the settings' download_rate of the step. A download
	// has no flow control from the front end: it hangs up on a reader
	// with more than frontend.DefaultMaxQueuedWrites pieces of
	// dispatch.DownloadPiece waiting, a right limit for a caller who
	// stops reading. The step's reader (and the host's writer) must never
	// pause longer than that is at the rate (filesSlack): at 64 MiB/s,
	// 62 ms, which a loaded 2-core machine (CI's, or this shared one)
	// overran in 9 of 19 runs of the step ("unexpected EOF"; the front
	// end's log said "write queue full"), 1 of 6 even with the reader's
	// buffer made up front; at 16 MiB/s, a quarter of a second: none of
	// 28 failed.
	filesRate = 16 << 20
	// filesMinSlack is the least slack TestFilesSlack allows.
	filesMinSlack = 250 * time.Millisecond
	// filesPause is the second caller's pause between two menu round
	// trips.
	filesPause = 2 * time.Millisecond
	// filesTimeout bounds one prompt's answer in the step.
	filesTimeout = 30 * time.Second
)

// filesSlack is how long the download's reader may pause before the
// front end hangs up on it.
func filesSlack() time.Duration {
	return time.Duration(frontend.DefaultMaxQueuedWrites * dispatch.DownloadPiece * int64(time.Second) / filesRate)
}

// filesRun is one run of the files step.
type filesRun struct {
	took  time.Duration   // the download
	trips []time.Duration // the second caller's menu round trips meanwhile, sorted
}

// mibPerSecond is the download's throughput.
func (r filesRun) mibPerSecond() float64 {
	return float64(filesBytes) / (1 << 20) / r.took.Seconds()
}

// quantile is the q quantile of the round trips, in milliseconds.
func (r filesRun) quantile(q float64) float64 {
	if len(r.trips) == 0 {
		return 0
	}
	return ms(r.trips[min(int(q*float64(len(r.trips))), len(r.trips)-1)])
}

func (r filesRun) String() string {
	return fmt.Sprintf("%d MiB downloaded in %v (%.1f MiB/s); a second caller's menu meanwhile: %d round trips, p50 %.2f ms, p99 %.2f ms",
		filesBytes>>20, r.took.Round(time.Millisecond), r.mibPerSecond(), len(r.trips), r.quantile(0.5), r.quantile(0.99))
}

// filesRuns runs the files step -runs times, each on a fresh `m2bbs
// run`, and adds them to the table.
func (o *benchOptions) filesRuns(ctx context.Context, t *benchTable) error {
	dir, err := os.MkdirTemp(o.tmp, "files-")
	if err != nil {
		return err
	}
	for run := range o.runs {
		r, err := o.filesOnce(ctx, filepath.Join(dir, strconv.Itoa(run)))
		if err != nil {
			return err
		}
		o.progress("files run %d/%d: %s", run+1, o.runs, r)
		t.files = append(t.files, r)
	}
	return nil
}

// filesOnce starts `m2bbs run` with a file area in dir, has its sysop
// upload and approve a file of filesBytes, then downloads it while a
// second caller's menu is timed.
func (o *benchOptions) filesOnce(ctx context.Context, dir string) (r filesRun, err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return r, err
	}
	conf := filepath.Join(dir, "config.lua")
	src := fmt.Sprintf("files = { dir = %q, max_file = %d, upload_rate = %d, download_rate = %d, areas = { {name = 'bench'} } }\n",
		filepath.Join(dir, "files"), filesBytes, 1<<30, filesRate)
	if err := os.WriteFile(conf, []byte(src), 0o600); err != nil {
		return r, err
	}
	port, err := mongrel2.FreePort()
	if err != nil {
		return r, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s := &system{front: "m2bbs run", handler: handlerBoard, addr: addr, token: o.handlerToken()}
	defer func() { err = errors.Join(err, s.stopErr()) }()
	args := append(o.runArgs(port, -1, -1, dir, filepath.Join(dir, "bbs.db")), "-config", conf)
	if s.handlerProc, err = o.startChild("m2bbs run", o.board, o.hostEnv, args...); err != nil {
		return r, fmt.Errorf("bench: %w", err)
	}
	if err := s.awaitStatus(ctx); err != nil {
		return r, fmt.Errorf("bench: %w", err)
	}
	data := make([]byte, filesBytes)
	rand.Read(data)
	sysop, link, err := o.filesPlace(ctx, addr, data)
	if err != nil {
		return r, err
	}
	defer sysop.Close() // the link works while its call is online
	second, _, err := filesCaller(ctx, addr, "cy", "pw", "pw", "y")
	if err != nil {
		return r, err
	}
	defer second.Close()
	stop := make(chan struct{})
	type result struct {
		trips []filelink.Trip
		err   error
	}
	done := make(chan result, 1)
	go func() {
		trips, err := filelink.MenuRoundTrips(second, stop, filesPause, filesTimeout)
		done <- result{trips, err}
	}()
	start := time.Now()
	got, err := filelink.Download(ctx, "http://"+addr+link)
	r.took = time.Since(start)
	close(stop)
	res := <-done
	if err != nil {
		err = fmt.Errorf("the download: %w", err)
	}
	if res.err != nil {
		res.err = fmt.Errorf("the second caller's menu: %w", res.err)
	}
	if err = errors.Join(err, res.err); err != nil {
		return r, fmt.Errorf("bench: files: %w\nm2bbs run's log ends:\n%s", err, s.handlerProc.log)
	}
	if !bytes.Equal(got, data) {
		return r, fmt.Errorf("bench: files: downloaded %d bytes, not the %d uploaded", len(got), len(data))
	}
	r.trips = filelink.During(res.trips, start, start.Add(r.took))
	slices.Sort(r.trips)
	return r, s.handlerProc.alive()
}

// filesPlace has the sysop (the board's first caller) upload data over
// an upload link and approve it, and returns their call, still online,
// and a download link to the file.
func (o *benchOptions) filesPlace(ctx context.Context, addr string, data []byte) (c *classic.Client, link string, err error) {
	c, out, err := filesCaller(ctx, addr, "zed", "pw", "pw", "y", "F", "U", "1")
	if err != nil {
		return nil, "", err
	}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	up := filelink.Last(filelink.UploadRE, out)
	if code, a, err := filelink.Upload(ctx, addr, up, "BENCH.BIN", data); err != nil || code != http.StatusOK {
		return nil, "", fmt.Errorf("bench: files: upload: %d %+v %v", code, a, err)
	}
	// From the Files menu back to the main menu, the sysop menu's review,
	// then the area's first file and its link.
	out, err = filesVisit(c, "", "S", "R", "A", "", "Q", "F", "A", "1", "1", "L")
	if err != nil {
		return nil, "", err
	}
	if link = filelink.Last(filelink.DownloadRE, out); link == "" {
		return nil, "", fmt.Errorf("bench: files: no download link in:\n%s", out)
	}
	return c, link, nil
}

// filesCaller calls the board at addr, answers its prompts with lines
// and returns what the caller saw.
func filesCaller(ctx context.Context, addr string, lines ...string) (*classic.Client, string, error) {
	c, err := classic.Dial(ctx, addr, "@bbs", false)
	if err != nil {
		return nil, "", fmt.Errorf("bench: files: %w", err)
	}
	if err := c.Connect(); err != nil {
		c.Close()
		return nil, "", fmt.Errorf("bench: files: %w", err)
	}
	out, err := c.Run(lines, filesTimeout)
	if !errors.Is(err, classic.ErrOutOfLines) {
		c.Close()
		return nil, out, fmt.Errorf("bench: files: the visit ended: %v\n%s", err, out)
	}
	return c, out, nil
}

// filesVisit answers the prompt c is at with lines[0], the ones after it
// with the rest, and returns what c saw.
func filesVisit(c *classic.Client, lines ...string) (string, error) {
	if err := c.Send(lines[0]); err != nil {
		return "", err
	}
	out, err := c.Run(lines[1:], filesTimeout)
	if !errors.Is(err, classic.ErrOutOfLines) {
		return out, fmt.Errorf("bench: files: the visit ended: %v\n%s", err, out)
	}
	return out, nil
}

// filesRows are the table's lines of the files step.
func (t *benchTable) filesRows() []report.Item {
	if len(t.files) == 0 {
		return nil
	}
	var rate, p50, p99 []float64
	for _, r := range t.files {
		rate = append(rate, r.mibPerSecond())
		p50 = append(p50, r.quantile(0.5))
		p99 = append(p99, r.quantile(0.99))
	}
	return []report.Item{
		report.Section(fmt.Sprintf("file areas on `m2bbs run`: one HTTP download of %d MiB (download_rate %d MiB/s) while a second caller types at the main menu",
			filesBytes>>20, filesRate>>20)),
		report.Row{Name: "files: one download's throughput", Values: rate, Format: report.Unit("%.1f MiB/s"),
			Note: "256 KiB pieces through the front end, byte-identical"},
		report.Row{Name: "files: second caller's menu p50 meanwhile", Values: p50, Format: report.Unit("%.2f ms")},
		report.Row{Name: "files: second caller's menu p99 meanwhile", Values: p99, Format: report.Unit("%.2f ms")},
	}
}
