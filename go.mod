module github.com/m2bbs/m2bbs

go 1.26.8

require (
	github.com/coder/websocket v1.8.14
	github.com/creack/pty v1.1.24
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/pebbe/zmq4 v1.4.0
	github.com/yuin/gopher-lua v1.1.2
	golang.org/x/crypto v0.59.0
	golang.org/x/term v0.48.0
	golang.org/x/text v0.44.0
)

require golang.org/x/sys v0.50.0
