// Package filelink is a caller's side of the board's file links
// (host/handler/files, docs/files.md) for the end-to-end tests and the
// load suite: the links found in a transcript, an upload sent in pieces
// as the upload page does, a download, and a second caller's menu timed
// meanwhile.
package filelink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/handler/files"
)

// The links in a transcript.
var (
	UploadRE   = regexp.MustCompile(`/files/u/[A-Za-z0-9_.-]+`)
	DownloadRE = regexp.MustCompile(`/files/d/[A-Za-z0-9_.-]+`)
)

// Last returns the last link re finds in transcript, or "".
func Last(re *regexp.Regexp, transcript string) string {
	all := re.FindAllString(transcript, -1)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1]
}

// Answer is the JSON of an upload request's answer.
type Answer struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Waiting  bool   `json:"waiting"`
	Received int64  `json:"received"`
	Error    string `json:"error"`
}

// Post sends one upload request to url and returns its status and
// answer (a body that is not JSON becomes the answer's Error).
func Post(ctx context.Context, url string, body []byte) (int, Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, Answer{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, Answer{}, err
	}
	defer resp.Body.Close()
	var a Answer
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(raw, &a) != nil || (a.Error == "" && resp.StatusCode != http.StatusOK) {
		a.Error = string(raw)
	}
	return resp.StatusCode, a, nil
}

// Upload sends data to the upload link at http://addr+link in pieces of
// files.MaxPieceBytes, named name, and returns the answer to the first
// piece refused or to the last one.
func Upload(ctx context.Context, addr, link, name string, data []byte) (int, Answer, error) {
	for off := 0; ; off += files.MaxPieceBytes {
		end := min(off+files.MaxPieceBytes, len(data))
		q := fmt.Sprintf("?offset=%d", off)
		if end == len(data) {
			q += "&done=1&name=" + name
		}
		code, a, err := Post(ctx, "http://"+addr+link+q, data[off:end])
		if err != nil || code != http.StatusOK || end == len(data) {
			return code, a, err
		}
	}
}

// MaxDownloadBuffer bounds the buffer Download makes up front for a
// body's Content-Length.
const MaxDownloadBuffer = 1 << 30

// Download GETs url and returns the body; an answer other than 200 is
// an error.
//
// It reads promptly: the front ends hang up on a reader with more than
// 16 pieces waiting, only 62 ms behind a download_rate of 64 MiB/s, so
// the body goes into a buffer of its Content-Length made up front. With
// io.ReadAll, growing and copying the buffer (and the garbage collection
// of the copies) paused the reader for 150 to 450 ms on a loaded 2-core
// machine, and the front end hung up ("unexpected EOF").
func Download(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		// MinRead more: ReadFrom then meets the end without growing it.
		buf.Grow(int(min(resp.ContentLength+bytes.MinRead, MaxDownloadBuffer)))
	}
	_, err = buf.ReadFrom(resp.Body)
	body := buf.Bytes()
	if err != nil {
		return body, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}

// Trip is one menu round trip: when it started and how long it took.
type Trip struct {
	At   time.Time
	Took time.Duration
}

// MenuRoundTrips has c, at the shipped board's main menu, type a key
// that is not on it, every pause, until stop closes, and returns each
// answer's round trip (the time to its next prompt).
func MenuRoundTrips(c *classic.Client, stop <-chan struct{}, pause, timeout time.Duration) ([]Trip, error) {
	var trips []Trip
	for {
		select {
		case <-stop:
			return trips, nil
		default:
		}
		sent := time.Now()
		if err := c.Send("Z"); err != nil {
			return trips, err
		}
		for {
			m, err := c.Next(timeout)
			if err != nil {
				return trips, fmt.Errorf("the menu's answer: %w", err)
			}
			if m.Type == "prompt" {
				break
			}
		}
		trips = append(trips, Trip{sent, time.Since(sent)})
		time.Sleep(pause)
	}
}

// During returns the round trips of trips that started within [from,
// to).
func During(trips []Trip, from, to time.Time) []time.Duration {
	var out []time.Duration
	for _, tr := range trips {
		if !tr.At.Before(from) && tr.At.Before(to) {
			out = append(out, tr.Took)
		}
	}
	return out
}
