package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/shared/access"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// maxWatchLine bounds one event of the watch stream (a screen is far
// smaller).
const maxWatchLine = 4 << 20

// watchCaller is "m2bbs status -watch CONN_ID" (chat false) and "-chat
// CONN_ID": it prints the caller's visit as the host streams it (the
// classic client's transcript, dispatch.WatchTranscript) until the watch
// ends or ctx does (Ctrl-C). With chat, the sysop breaks in at once and
// each line of in goes to the caller as the sysop's chat line; the end of
// in (Ctrl-D) ends the chat and the watch goes on, Ctrl-C ends both.
func watchCaller(ctx context.Context, c *sysopClient, connID string, chat bool, in io.Reader, out, errOut io.Writer) error {
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	path := "/watch?conn_id=" + url.QueryEscape(connID)
	if chat {
		path += "&chat=1"
	}
	resp, err := c.open(streamCtx, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if chat {
		go c.sendChat(streamCtx, connID, in, errOut)
	}
	err = printWatch(resp.Body, out)
	if chat {
		// Ends the chat if the stream ended first (Ctrl-C); a chat
		// already ended answers 409, which is fine.
		endCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), statusTimeout)
		_, _ = c.do(endCtx, http.MethodPost, "/chat?end=1&conn_id="+url.QueryEscape(connID), "")
		stop()
	}
	if ctx.Err() != nil {
		return nil // Ctrl-C
	}
	return err
}

// open starts the sysop's streamed request: POST path, with no deadline
// but ctx's.
func (c *sysopClient) open(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set(access.SysopHeader, "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, errors.New("status: " + resp.Status + ": " + strings.TrimSpace(string(data)))
	}
	return resp, nil
}

// printWatch writes the stream's events to out as they come, until the
// watch's last event or the stream's end.
func printWatch(stream io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(stream)
	sc.Buffer(make([]byte, 0, 64<<10), maxWatchLine)
	var tr dispatch.WatchTranscript
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue // the stream's heartbeat
		}
		var e dispatch.WatchEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			return fmt.Errorf("status: watch stream: %w", err)
		}
		var b strings.Builder
		tr.Write(&b, e)
		if _, err := io.WriteString(out, termtext.StripStrings(b.String())); err != nil {
			return err
		}
		if e.Kind == dispatch.WatchEnd {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("status: watch stream: %w", err)
	}
	return errors.New("status: the watch stream ended early")
}

// sendChat sends each line of in to connID as the sysop's chat line, then
// ends the chat; errors go to errOut.
func (c *sysopClient) sendChat(ctx context.Context, connID string, in io.Reader, errOut io.Writer) {
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		text := strings.TrimSpace(lines.Text())
		if text == "" {
			continue
		}
		reqCtx, cancel := context.WithTimeout(ctx, statusTimeout)
		_, err := c.do(reqCtx, http.MethodPost, "/chat?conn_id="+url.QueryEscape(connID), text)
		cancel()
		if err != nil && ctx.Err() == nil {
			fmt.Fprintln(errOut, err)
		}
		if ctx.Err() != nil {
			return
		}
	}
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), statusTimeout)
	defer cancel()
	if _, err := c.do(endCtx, http.MethodPost, "/chat?end=1&conn_id="+url.QueryEscape(connID), ""); err != nil && ctx.Err() == nil {
		fmt.Fprintln(errOut, err)
	}
}
