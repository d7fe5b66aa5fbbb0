#!/usr/bin/env python3
"""Classic m2bbs client: talk to the BBS through Mongrel2's JSON sockets.

Usage: python3 client.py [HOST [PORT]] [--route @bbs] [--raw]

Speaks the protocol of the 2010 Mongrel2 BBS client over plain TCP.  Each
request is `@ROUTE {"type": "msg", "msg": ...}` followed by a NUL byte, the
first one being "connect".  Each reply is a NUL-terminated frame holding
base64 of a JSON object (bare JSON with --raw):
  screen  print msg
  prompt  print msg, then read one line after pchar and send it
  exit    print msg and quit
When stdin is not a terminal, lines are read from it and echoed after the
prompt, so the output reads like a terminal session.  End of input or
Ctrl-C prints "Bye." and exits 0.  Python 3 standard library only.
"""

import argparse
import base64
import json
import socket
import sys

MAX_FRAME = 1 << 20  # bytes per frame before decoding, as in host/gateway/classic


class ProtocolError(Exception):
    """The server sent something this client cannot read."""


def frames(sock):
    """Yield the server's NUL-terminated frames; stop when it hangs up."""
    pending = b""
    while True:
        while b"\0" not in pending:
            if len(pending) > MAX_FRAME:
                raise ProtocolError("frame longer than %d bytes" % MAX_FRAME)
            data = sock.recv(65536)
            if not data:
                if pending:
                    raise ProtocolError("connection closed inside a frame")
                return
            pending += data
        frame, _, pending = pending.partition(b"\0")
        yield frame


def decode(frame, raw):
    """Turn one frame into a message dict."""
    try:
        data = frame if raw else base64.b64decode(frame, validate=True)
        message = json.loads(data.decode("utf-8"))
    except ValueError as err:
        raise ProtocolError("bad frame %r: %s" % (frame[:64], err))
    if not isinstance(message, dict) or "type" not in message:
        raise ProtocolError("not a message: %r" % (message,))
    return message


def send(sock, route, text):
    """Send one line to the BBS."""
    request = json.dumps({"type": "msg", "msg": text})
    sock.sendall(("%s %s\0" % (route, request)).encode("utf-8"))


def converse(sock, route, raw, echo):
    """Run the conversation; return the exit status."""
    send(sock, route, "connect")
    for frame in frames(sock):
        message = decode(frame, raw)
        if message.get("msg"):
            print(message["msg"])
        if message["type"] == "prompt":
            line = input(message.get("pchar", ""))
            if echo:
                print(line)
            send(sock, route, line)
        elif message["type"] == "exit":
            return 0
    print("Connection closed by the server.", file=sys.stderr)
    return 1


def main():
    parser = argparse.ArgumentParser(description="Classic m2bbs client.")
    parser.add_argument("host", nargs="?", default="127.0.0.1")
    parser.add_argument("port", nargs="?", type=int, default=6767)
    parser.add_argument("--route", default="@bbs", help="JSON-socket route")
    parser.add_argument("--raw", action="store_true",
                        help="frames are bare JSON, not base64")
    args = parser.parse_args()

    print("Connecting to %s:%d" % (args.host, args.port))
    try:
        with socket.create_connection((args.host, args.port)) as sock:
            return converse(sock, args.route, args.raw, not sys.stdin.isatty())
    except (EOFError, KeyboardInterrupt):
        print("\nBye.")
        return 0
    except (OSError, ProtocolError) as err:
        print("error: %s" % err, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
