// Package pgtest starts a real PostgreSQL server for tests: initdb in a
// temporary folder, the postgres program on a free port of 127.0.0.1
// (host/shared/freeport), stopped by its PID at the end.
//
// One server serves a whole package's test run and each test gets a fresh
// database of its own, so a package pays for initdb once (about a second)
// and a test for CREATE DATABASE (tens of milliseconds):
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
//
//	func TestSomething(t *testing.T) {
//		dsn := pgtest.NewDatabase(t) // postgres://postgres@127.0.0.1:PORT/t_3?sslmode=disable
//		...
//	}
//
// The server starts with the first NewDatabase call, so a run that selects
// no PostgreSQL test starts none. When PostgreSQL is not installed
// (/usr/lib/postgresql/*/bin/initdb, or the folder named by
// M2BBS_PG_BIN), NewDatabase skips the test, saying so; the Makefile
// installs Debian's postgresql package.
//
// initdb refuses to run as root: when the tests run as root, initdb and
// the server run as the Debian "postgres" user (SysProcAttr.Credential), in
// a temporary folder made theirs. The server trusts connections from
// 127.0.0.1 (a test server holds nothing secret), keeps its socket in its
// own folder, and runs with fsync off: a test database does not survive a
// power cut, and needs not.
package pgtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/m2bbs/m2bbs/host/shared/freeport"
)

// ErrNotInstalled means no PostgreSQL programs were found.
var ErrNotInstalled = errors.New("pgtest: PostgreSQL is not installed (apt-get install postgresql, or set M2BBS_PG_BIN to the folder of initdb and postgres)")

// StartTimeout bounds initdb plus the server's start-up.
const StartTimeout = 60 * time.Second

// Superuser is the role initdb creates and tests connect as.
const Superuser = "postgres"

// Server is a PostgreSQL server started by Start. Its methods are safe for
// concurrent use.
type Server struct {
	dir  string // the temporary folder: data/, sock/, the log
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when the server process has exited
	log  *lockedTail   // the server's last lines of output, for errors

	mu        sync.Mutex
	n         int                  // databases created so far
	templates map[string]*template // by name, made by Template
}

// template is a database made once by Template and copied by CreateDatabase.
type template struct {
	once sync.Once
	err  error
}

// BinDir returns the folder holding initdb and postgres: $M2BBS_PG_BIN if
// set, else the newest /usr/lib/postgresql/N/bin. It returns
// ErrNotInstalled when there is none.
func BinDir() (string, error) {
	if dir := os.Getenv("M2BBS_PG_BIN"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err != nil {
			return "", fmt.Errorf("%w: %v", ErrNotInstalled, err)
		}
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	return "", ErrNotInstalled
}

// version is the major version N in /usr/lib/postgresql/N/bin (0 if none).
func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start runs initdb in a new temporary folder and starts the server on a
// free port of 127.0.0.1, returning once it accepts connections. Stop it
// with Stop.
func Start(ctx context.Context) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	reapOrphans()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	// The owner's PID lets a later Start stop this server if the test
	// binary dies without Stop (a panic, go test's timeout).
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &Server{dir: dir, done: make(chan struct{}), log: &lockedTail{}}
	if err := s.prepare(ctx, bin, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.start(ctx, bin, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// dirPrefix names the servers' temporary folders; ownerFile in each holds
// the PID of the process that started the server.
const (
	dirPrefix = "m2bbs-pgtest-"
	ownerFile = "owner.pid"
)

// reapOrphans stops the servers whose owner process is gone (a test
// binary that panicked or hit its timeout never ran Stop) and removes
// their folders. A server's PID is the first line of its postmaster.pid.
func reapOrphans() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		owner, err := readPID(filepath.Join(dir, ownerFile))
		if err != nil || alive(owner) {
			continue
		}
		if pid, err := readPID(filepath.Join(dir, "data", "postmaster.pid")); err == nil && alive(pid) {
			syscall.Kill(pid, syscall.SIGQUIT) // immediate shutdown: its data is thrown away
		}
		os.RemoveAll(dir)
	}
}

// readPID reads the number on the first line of file.
func readPID(file string) (int, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(first))
}

// alive reports whether process pid exists.
func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// runAs returns the credential initdb and the server run with: nil for
// the current user, the "postgres" user's when the current one is root.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, and initdb refuses root: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgtest: user postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// prepare gives the folder to the server's user and runs initdb in it.
func (s *Server) prepare(ctx context.Context, bin string, cred *syscall.Credential) error {
	if err := os.Mkdir(filepath.Join(s.dir, "sock"), 0o700); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if cred != nil {
		for _, p := range []string{s.dir, filepath.Join(s.dir, "sock")} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return fmt.Errorf("pgtest: %w", err)
			}
		}
	}
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", filepath.Join(s.dir, "data"), "-U", Superuser, "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %w: %s", err, tail(string(out)))
	}
	return nil
}

// start starts the postgres program and waits for its "ready to accept
// connections" line.
func (s *Server) start(ctx context.Context, bin string, cred *syscall.Credential) error {
	port, err := freeport.Pick()
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	s.port = port
	s.cmd = exec.Command(filepath.Join(bin, "postgres"),
		"-D", filepath.Join(s.dir, "data"),
		"-p", strconv.Itoa(port),
		"-k", filepath.Join(s.dir, "sock"),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=400", "-c", "shared_buffers=32MB",
		"-c", "log_min_messages=warning", "-c", "log_min_error_statement=panic")
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	s.cmd.Dir = s.dir
	out, err := s.cmd.StderrPipe()
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	ready := make(chan struct{})
	go s.readLog(out, ready)
	go func() {
		s.cmd.Wait()
		close(s.done)
	}()
	select {
	case <-ready:
		return nil
	case <-s.done:
		return fmt.Errorf("pgtest: postgres exited at start: %s", s.log.String())
	case <-ctx.Done():
		s.Stop()
		return fmt.Errorf("pgtest: postgres not ready: %w: %s", ctx.Err(), s.log.String())
	}
}

// readLog keeps the server's last lines and closes ready at the line that
// says it accepts connections.
func (s *Server) readLog(r io.Reader, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	signalled := false
	for sc.Scan() {
		line := sc.Text()
		s.log.add(line)
		if !signalled && strings.Contains(line, "ready to accept connections") {
			close(ready)
			signalled = true
		}
	}
}

// Port returns the TCP port the server listens on (127.0.0.1).
func (s *Server) Port() int { return s.port }

// DSN returns the connection string of database db as the superuser.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", Superuser, s.port, db)
}

// CreateDatabase creates a new database with a name of its own, a copy
// of database from (a Template's name), or empty when from is "", and
// returns its DSN and name.
func (s *Server) CreateDatabase(ctx context.Context, from string) (dsn, name string, err error) {
	s.mu.Lock()
	s.n++
	name = fmt.Sprintf("t_%d", s.n)
	s.mu.Unlock()
	stmt := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if from != "" {
		stmt += " TEMPLATE " + pgx.Identifier{from}.Sanitize()
	}
	if err := s.admin(ctx, stmt); err != nil {
		return "", "", err
	}
	return s.DSN(name), name, nil
}

// Template makes database name once per server, by running setup on a
// new empty database of that name (setup must close every connection it
// opened), for CreateDatabase to copy: copying a database whose schema is
// in place costs a fraction of building the schema again in each.
func (s *Server) Template(ctx context.Context, name string, setup func(dsn string) error) error {
	s.mu.Lock()
	if s.templates == nil {
		s.templates = make(map[string]*template)
	}
	tp := s.templates[name]
	if tp == nil {
		tp = &template{}
		s.templates[name] = tp
	}
	s.mu.Unlock()
	tp.once.Do(func() {
		if tp.err = s.admin(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); tp.err != nil {
			return
		}
		if err := setup(s.DSN(name)); err != nil {
			tp.err = fmt.Errorf("pgtest: template %s: %w", name, err)
		}
	})
	return tp.err
}

// DropDatabase drops database name, ending its sessions first.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	return s.admin(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

// admin runs one statement on the server's "postgres" database.
func (s *Server) admin(ctx context.Context, stmt string) error {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("pgtest: %s: %w", stmt, err)
	}
	return nil
}

// Stop stops the server by its PID (a fast shutdown: SIGINT, then SIGKILL
// to its process group after 10 s), waits for it and removes its folder.
// Stopping twice is harmless.
func (s *Server) Stop() error {
	if s.cmd != nil && s.cmd.Process != nil {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
				<-s.done
			}
		}
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return nil
}

// The package's shared server, started by the first NewDatabase of a test
// run and stopped by Run.
var shared struct {
	mu  sync.Mutex
	srv *Server
	err error
}

// Run runs the package's tests (m.Run) and then stops the server that
// NewDatabase started, if any. Use it from TestMain.
func Run(m *testing.M) int {
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		shared.srv = nil
	}
	return code
}

// Shared returns the package's server, starting it on first use. It skips
// the test when PostgreSQL is not installed and fails it when the server
// cannot start.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv == nil && shared.err == nil {
		shared.srv, shared.err = Start(context.Background())
	}
	switch {
	case errors.Is(shared.err, ErrNotInstalled):
		t.Skip(shared.err.Error())
	case shared.err != nil:
		t.Fatal(shared.err)
	}
	return shared.srv
}

// NewDatabase creates a fresh database on the package's server (Shared)
// and returns its DSN; the database is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, Shared(t), "")
}

// NewDatabaseFrom is NewDatabase with a copy of template name, which the
// package's server makes once with setup (Server.Template).
func NewDatabaseFrom(t testing.TB, name string, setup func(dsn string) error) string {
	t.Helper()
	srv := Shared(t)
	if err := srv.Template(context.Background(), name, setup); err != nil {
		t.Fatal(err)
	}
	return newDatabase(t, srv, name)
}

// newDatabase creates a database on srv, copied from template (or empty),
// dropped when the test ends.
func newDatabase(t testing.TB, srv *Server, template string) string {
	t.Helper()
	dsn, name, err := srv.CreateDatabase(context.Background(), template)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.DropDatabase(context.Background(), name); err != nil {
			t.Error(err)
		}
	})
	return dsn
}

// lockedTail keeps the last lines of the server's output.
type lockedTail struct {
	mu    sync.Mutex
	lines []string
}

const tailLines = 20

func (l *lockedTail) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	if len(l.lines) > tailLines {
		l.lines = l.lines[len(l.lines)-tailLines:]
	}
}

// String returns the lines kept, joined.
func (l *lockedTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// tail returns the last lines of out.
func tail(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) > tailLines {
		lines = lines[len(lines)-tailLines:]
	}
	return strings.Join(lines, "\n")
}
