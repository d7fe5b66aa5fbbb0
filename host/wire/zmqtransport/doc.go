// Package zmqtransport moves Mongrel2 handler messages over ZeroMQ. It
// carries opaque []byte messages and knows nothing of their format (that is
// package m2proto).
//
// There are two sides:
//
//   - The handler side ([DialHandler]) is what a Mongrel2 handler such as the
//     m2bbs host uses. It connects: a PULL socket to Mongrel2's send_spec
//     (requests arrive there) and an XPUB socket to Mongrel2's recv_spec
//     (replies leave there). XPUB is a PUB that also reports its peers'
//     subscriptions, so [Transport.Subscribed] can tell when replies start
//     to reach Mongrel2.
//   - The server side ([ListenServer]) plays Mongrel2's part. It binds: a
//     PUSH socket on send_spec and a SUB socket, subscribed to everything,
//     on recv_spec. The built-in front end and the tests use it.
//
// Addresses are ZeroMQ endpoints such as "tcp://127.0.0.1:9997" or
// "inproc://name". Both ends of an inproc endpoint must live in the same
// ZeroMQ context: pass the same *zmq4.Context in both configs.
//
// ZeroMQ sockets may be used by one goroutine only. Each Transport therefore
// runs two goroutines: one owns the receiving socket and feeds
// [Transport.Messages], the other owns the sending socket and drains the
// queue that [Transport.Send] fills. Every socket has linger 0 but the
// handler's reply socket ([FlushLinger]), so [Transport.Close] is prompt
// and discards messages not yet sent; [Transport.Flush] sends what is
// queued first.
//
// Nothing is lost without being counted in [Stats].Dropped: Send waits at
// most SendTimeout for room in a full queue, then refuses the message with
// [ErrQueueFull]; the handler side's XPUB refuses a message at its
// high-water mark (ZMQ_XPUB_NODROP) instead of dropping it silently, and
// the transport counts it; replies sent while the peer has unsubscribed
// (Mongrel2 restarting) are counted too, as ZeroMQ would discard them. The
// one exception is the moment between a peer going away and ZeroMQ
// reporting it, which ZeroMQ does not expose.
package zmqtransport
