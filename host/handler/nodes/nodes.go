// Package nodes numbers the callers of a phone line: each caller online
// holds a node, the lowest free one when their call began, until their
// call ends. Drop files and door servers need it (a DOS door keeps its
// files per node); who's online and the status page show it.
//
// One host serves a line, so an Allocator in memory is the truth; it
// keeps a copy in the store (store.NodeStore: the nodes table, which no
// script can reach), so that a host restarted on the line gives the
// callers it resumes the nodes they had. At start it drops the nodes of
// callers who have no journal (their call cannot be resumed).
//
// The copy is written by a goroutine of the allocator's, in order, so that
// a caller's start and end do not wait for the database (a claim and a
// release cost two writes, about 0.1 ms together); a host killed within
// moments of a claim may not have kept it.
//
// Limits: at most MaxNodes nodes a line (past it a caller has node 0:
// none); at most MaxPendingWrites writes waiting (past it a claim waits
// for the writer); store writes are bounded by StoreTimeout and their
// failure is logged, never the caller's (the node then may not survive a
// restart).
package nodes

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// MaxNodes bounds the nodes of a line (the store's bound).
const MaxNodes = store.MaxNodes

// StoreTimeout bounds one store read or write of the allocator.
const StoreTimeout = 5 * time.Second

// MaxPendingWrites bounds the writes waiting for the allocator's writer.
const MaxPendingWrites = 1024

// JournalLister lists the journals the store holds (*store.SQLite is one).
type JournalLister interface {
	ListJournals(ctx context.Context) ([]store.JournalInfo, error)
}

// Allocator hands out the nodes of one line. It is safe for concurrent
// use.
type Allocator struct {
	line  int
	store store.NodeStore // nil: in memory only
	log   *slog.Logger

	mu     sync.Mutex
	byConn map[string]int
	byNode map[int]string

	// writes feeds the writer (nil without a store); written is closed
	// when it has stopped.
	writes  chan nodeWrite
	written chan struct{}
	closing sync.Once
}

// nodeWrite is a node's holder to keep ("" deletes it).
type nodeWrite struct {
	node   int
	connID string
}

// New returns the allocator of line. With st set it loads the nodes kept
// there; a store that cannot be read is logged, and the line starts with
// every node free.
func New(ctx context.Context, line int, st store.NodeStore, log *slog.Logger) *Allocator {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Allocator{line: line, store: st, log: log, byConn: map[string]int{}, byNode: map[int]string{}}
	if st == nil {
		return a
	}
	a.writes, a.written = make(chan nodeWrite, MaxPendingWrites), make(chan struct{})
	go a.writer()
	kept, err := a.load(ctx)
	if err != nil {
		log.Warn("nodes kept in the store unreadable: callers resumed may get other nodes", "line", line, "err", err)
		return a
	}
	for node, connID := range kept {
		if a.byConn[connID] != 0 {
			a.write(node, "")
			continue
		}
		a.byConn[connID], a.byNode[node] = node, connID
	}
	return a
}

// Prune frees the nodes of callers who have no session here (online
// says) and no journal in journals: their call is over and cannot be
// resumed. The host calls it at start, once the journals of dead calls
// are dropped.
func (a *Allocator) Prune(ctx context.Context, journals JournalLister, online func(connID string) bool) error {
	list, err := journals.ListJournals(ctx)
	if err != nil {
		return fmt.Errorf("prune nodes of line %d: %w", a.line, err)
	}
	live := make(map[string]bool, len(list))
	for _, j := range list {
		live[j.ConnID] = true
	}
	var gone []string
	a.mu.Lock()
	for id := range a.byConn {
		if !live[id] && (online == nil || !online(id)) {
			gone = append(gone, id)
		}
	}
	a.mu.Unlock()
	for _, id := range gone {
		a.Release(id)
	}
	return nil
}

// load reads the nodes kept in the store.
func (a *Allocator) load(ctx context.Context) (map[int]string, error) {
	kept, err := a.store.LoadNodes(ctx, a.line)
	if err != nil {
		return nil, err
	}
	for node, connID := range kept {
		if connID == "" {
			delete(kept, node)
			a.write(node, "")
		}
	}
	return kept, nil
}

// Claim returns connID's node: the one it holds, or the lowest free one
// (0 when all MaxNodes are held).
func (a *Allocator) Claim(connID string) int {
	a.mu.Lock()
	if n := a.byConn[connID]; n != 0 {
		a.mu.Unlock()
		return n
	}
	n := 1
	for a.byNode[n] != "" {
		n++
	}
	if n > MaxNodes {
		a.mu.Unlock()
		return 0
	}
	a.byConn[connID], a.byNode[n] = n, connID
	a.mu.Unlock()
	a.write(n, connID)
	return n
}

// Release frees connID's node, if it holds one.
func (a *Allocator) Release(connID string) {
	a.mu.Lock()
	n := a.byConn[connID]
	if n != 0 {
		delete(a.byConn, connID)
		delete(a.byNode, n)
	}
	a.mu.Unlock()
	if n != 0 {
		a.write(n, "")
	}
}

// Node returns connID's node, or 0.
func (a *Allocator) Node(connID string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.byConn[connID]
}

// Held lists the nodes held, lowest first, as conn ids.
func (a *Allocator) Held() []Holder {
	a.mu.Lock()
	out := make([]Holder, 0, len(a.byNode))
	for n, id := range a.byNode {
		out = append(out, Holder{Node: n, ConnID: id})
	}
	a.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}

// Holder is a node and the caller holding it.
type Holder struct {
	Node   int
	ConnID string
}

// write queues node's holder for the store ("" deletes it).
func (a *Allocator) write(node int, connID string) {
	if a.store == nil || node < 1 {
		return
	}
	a.writes <- nodeWrite{node, connID}
}

// writer keeps the queued holders in the store, in order, until Close.
func (a *Allocator) writer() {
	defer close(a.written)
	for w := range a.writes {
		a.store1(w.node, w.connID)
	}
}

// Close stores the writes queued and stops the writer. The allocator
// must not be used after.
func (a *Allocator) Close() {
	if a.writes == nil {
		return
	}
	a.closing.Do(func() { close(a.writes) })
	<-a.written
}

// store1 keeps node's holder in the store ("" deletes it).
func (a *Allocator) store1(node int, connID string) {
	ctx, cancel := context.WithTimeout(context.Background(), StoreTimeout)
	defer cancel()
	if err := a.store.SetNode(ctx, a.line, node, connID); err != nil {
		a.log.Warn("node not kept in the store: it may not survive a restart", "node", node, "conn_id", connID, "err", err)
	}
}

// Forget drops connID's node from memory only, the copy in the store
// kept: the caller moved to another host (a drain, an upgrade), which may
// hold the node now.
func (a *Allocator) Forget(connID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n := a.byConn[connID]; n != 0 {
		delete(a.byConn, connID)
		delete(a.byNode, n)
	}
}
