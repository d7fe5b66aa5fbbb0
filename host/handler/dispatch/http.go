package dispatch

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/m2bbs/m2bbs/host/handler/lines"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// serveHTTP answers an HTTP request routed to the handler, replying
// through t: req goes as an *http.Request (newHTTPRequest) to the host's
// pages (routes), and their answer back as one reply.
func (h *Host) serveHTTP(ctx context.Context, req *m2proto.Request, t Transport) {
	h.httpRequests.Add(1)
	r := newHTTPRequest(ctx, req)
	w := newReplyWriter()
	if routable(r.URL.Path) {
		h.pages.ServeHTTP(w, r)
	} else {
		answerFunc(notFound).ServeHTTP(w, r)
	}
	if w.stream != nil {
		h.serveStream(ctx, req, t, w.stream)
		return
	}
	if w.download != nil {
		h.serveDownload(ctx, req, t, w.download)
		return
	}
	if err := h.sendVia(t, req.Sender, []string{req.ConnID}, w.reply()); err != nil {
		h.log.Warn("http reply", "conn_id", req.ConnID, "err", err)
	}
}

// routes are the host's HTTP pages: the lines directory (lines.Path), the
// status page (GET StatusPath) and the sysop's actions below it
// (sysopActions), POST only and each behind the one authorisation,
// sysopOnly. A page asked with another method answers 405 and says which
// to use; any other path 404.
func (h *Host) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/", answerFunc(notFound))
	mux.Handle(lines.Path, answerFunc(func(r *http.Request) (int, []byte) { return h.answerLines(r.Context(), r.Method) }))
	mux.Handle(http.MethodGet+" "+StatusPath, answerFunc(h.answerStatus))
	mux.Handle(StatusPath, onlyMethod(http.MethodGet))
	mux.Handle(http.MethodPost+" "+StatusPath+watchPath, h.sysopOnly(http.HandlerFunc(h.watchPage)))
	mux.Handle(StatusPath+watchPath, onlyMethod(http.MethodPost))
	for _, a := range h.sysopActions() {
		mux.Handle(http.MethodPost+" "+StatusPath+a.path, h.sysopOnly(a.answer))
		mux.Handle(StatusPath+a.path, onlyMethod(http.MethodPost))
	}
	h.fileRoutes(mux)
	return mux
}

// answerFunc is a page of the host: it returns the status code and the
// body, written as writeAnswer does.
type answerFunc func(r *http.Request) (int, []byte)

// ServeHTTP writes f's answer to r.
func (f answerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, body := f(r)
	writeAnswer(w, code, body)
}

// writeAnswer writes code and body to w: a 200's body is JSON, any
// other's plain text.
func writeAnswer(w http.ResponseWriter, code int, body []byte) {
	contentType := "application/json"
	if code != http.StatusOK {
		contentType = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// notFound answers a path that names no page.
func notFound(*http.Request) (int, []byte) { return http.StatusNotFound, []byte("not found\n") }

// onlyMethod answers a page asked with a method other than method: 405.
func onlyMethod(method string) answerFunc {
	return func(*http.Request) (int, []byte) {
		return http.StatusMethodNotAllowed, []byte("use " + method + "\n")
	}
}

func jsonLine(v any) []byte {
	b, _ := json.Marshal(v)
	return append(b, '\n')
}
