package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/shared/pgtest"
)

// The shared store suite: the tests below run on SQLite as they are, and
// again on PostgreSQL as subtests of TestPostgres, where newStore (and the
// other openers, through testTarget) give each a fresh database of the
// package's PostgreSQL server (host/shared/pgtest). Tests of what only
// SQLite has (files and their modes, WAL, PRAGMAs, the SQLite migrations'
// data moves, statement caches) are not in the list.

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// onPostgres reports whether t runs the shared suite (or benchmarks) on
// PostgreSQL.
func onPostgres(t testing.TB) bool {
	return strings.HasPrefix(t.Name(), "TestPostgres/") || strings.HasPrefix(t.Name(), "BenchmarkPostgres/")
}

// testTarget is where a test's store lives: a fresh PostgreSQL database
// (its DSN) under TestPostgres, else a new file in a temp folder.
func testTarget(t testing.TB) string {
	t.Helper()
	if onPostgres(t) {
		return pgTarget(t)
	}
	return filepath.Join(t.TempDir(), "bbs.db")
}

// pgTarget is a fresh PostgreSQL database with the schema in place.
func pgTarget(t testing.TB) string {
	t.Helper()
	return pgtest.NewDatabaseFrom(t, "store_schema", migrateTemplate)
}

// emptyTarget is testTarget with nothing in it yet: a PostgreSQL database
// without the schema, or a file not yet created.
func emptyTarget(t testing.TB) string {
	t.Helper()
	if onPostgres(t) {
		return emptyPGTarget(t)
	}
	return filepath.Join(t.TempDir(), "bbs.db")
}

// emptyPGTarget is a fresh PostgreSQL database without the schema.
func emptyPGTarget(t testing.TB) string {
	t.Helper()
	return pgtest.NewDatabase(t)
}

// migrateTemplate brings a new database's schema up to date and closes
// it: the template every PostgreSQL test database is copied from.
func migrateTemplate(dsn string) error {
	s, err := Open(dsn, testOptions)
	if err != nil {
		return err
	}
	return s.Close()
}

// newPGStore opens a store on a fresh PostgreSQL database, closed at the
// end of the test, and returns it with its DSN.
func newPGStore(t testing.TB, opts Options) (*SQLite, string) {
	t.Helper()
	dsn := pgTarget(t)
	s, err := Open(dsn, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, dsn
}

// sharedSuite is every test both engines pass.
var sharedSuite = []struct {
	name string
	fn   func(*testing.T)
}{
	{"SecurityLevels", TestSecurityLevels},
	{"GroupsAndFlags", TestGroupsAndFlags},
	{"NewUsersWait", TestNewUsersWait},
	{"TimeUsed", TestTimeUsed},
	{"CallStarted", TestCallStarted},
	{"Accounts", TestAccounts},
	{"Areas", TestAreas},
	{"PostsInTwoAreasWithThreads", TestPostsInTwoAreasWithThreads},
	{"PostErrors", TestPostErrors},
	{"PagingThroughAnArea", TestPagingThroughAnArea},
	{"NewMessageScanPerUserAndArea", TestNewMessageScanPerUserAndArea},
	{"DeletePost", TestDeletePost},
	{"MailboxKeepsMail", TestMailboxKeepsMail},
	{"DoorGetSetDelete", TestDoorGetSetDelete},
	{"DoorDataSurvivesReopen", TestDoorDataSurvivesReopen},
	{"DoorInputErrors", TestDoorInputErrors},
	{"DoorKeysAreBounded", TestDoorKeysAreBounded},
	{"DoorAdd", TestDoorAdd},
	{"DoorAddConcurrently", TestDoorAddConcurrently},
	{"DoorTop", TestDoorTop},
	{"DoorUserKeepsFirstSpelling", TestDoorUserKeepsFirstSpelling},
	{"DoorClosedStore", TestDoorClosedStore},
	{"EventDueAndClaim", TestEventDueAndClaim},
	{"EventRunsKeepTheLast", TestEventRunsKeepTheLast},
	{"FTNAccountIsNeitherSysopNorListed", TestFTNAccountIsNeitherSysopNorListed},
	{"TossPostThreadsAndDropsDuplicates", TestTossPostThreadsAndDropsDuplicates},
	{"NetmailInAndOut", TestNetmailInAndOut},
	{"LinkingAnEchoSendsNoHistory", TestLinkingAnEchoSendsNoHistory},
	{"TossReplyBeforeItsParent", TestTossReplyBeforeItsParent},
	{"TossedRepliesMakeNoCycle", TestTossedRepliesMakeNoCycle},
	{"TossedNamesHoldNoColourCodes", TestTossedNamesHoldNoColourCodes},
	{"JournalAppendLoadResetDrop", TestJournalAppendLoadResetDrop},
	{"JournalLimitsAndPrune", TestJournalLimitsAndPrune},
	{"WriteJournalsInOneTransaction", TestWriteJournalsInOneTransaction},
	{"DropJournals", TestDropJournals},
	{"WriteJournalsEmptyAppend", TestWriteJournalsEmptyAppend},
	{"LinesDirectoryAndPresence", TestLinesDirectoryAndPresence},
	{"ClaimDownLineHasOneWinner", TestClaimDownLineHasOneWinner},
	{"RestartedHostTakesOverItsLine", TestRestartedHostTakesOverItsLine},
	{"AccountsUseCleanNames", TestAccountsUseCleanNames},
	{"Nodes", TestNodes},
	{"DoorDataOfARemoteCaller", TestDoorDataOfARemoteCaller},
	{"SharedValuesRoundTrip", TestSharedValuesRoundTrip},
	{"SharedLimits", TestSharedLimits},
	{"FilesAddListApprove", TestFilesAddListApprove},
	{"FilesQuota", TestFilesQuota},
	{"FilesQueueAndKey", TestFilesQueueAndKey},
	{"SharedUpdateIsAtomic", TestSharedUpdateIsAtomic},
	{"SharedEvents", TestSharedEvents},
	{"SSHKeys", TestSSHKeys},
	{"RegisterAndAuthenticate", TestRegisterAndAuthenticate},
	{"RegisterUserErrors", TestRegisterUserErrors},
	{"RegisterUserSameNameConcurrently", TestRegisterUserSameNameConcurrently},
	{"PostAndReadMessages", TestPostAndReadMessages},
	{"PostMessageDoesNotKeepCallerSlice", TestPostMessageDoesNotKeepCallerSlice},
	{"PostMessageLimitsAndErrors", TestPostMessageLimitsAndErrors},
	{"Mail", TestMail},
	{"SendMailErrors", TestSendMailErrors},
	{"ConcurrentWritersAndReaders", TestConcurrentWritersAndReaders},
	{"ReadNextMailNeverTwice", TestReadNextMailNeverTwice},
	{"ReconnectDuringUse", TestReconnectDuringUse},
	{"CanceledContext", TestCanceledContext},
	{"LoginThrottleShared", TestLoginThrottleShared},
	{"RegistrationThrottle", TestRegistrationThrottle},
	{"FreeAttemptsAtOnceHoldNobodyUp", TestFreeAttemptsAtOnceHoldNobodyUp},
	{"TransactionsRollBackAndFreeTheWriter", TestTransactionsRollBackAndFreeTheWriter},
	{"TwoStoresOnOneFile", TestTwoStoresOnOneFile},
	{"ManyOpensOfANewDatabase", TestManyOpensOfANewDatabase},
	{"JournalConflictBetweenHosts", TestJournalConflictBetweenHosts},
	{"RiderStoredWithTheWrite", TestRiderStoredWithTheWrite},
	{"RiderConflictRollsTheWriteBack", TestRiderConflictRollsTheWriteBack},
	{"RiderWaitsForAWriteThatCommits", TestRiderWaitsForAWriteThatCommits},
	{"RiderRunsAgainWithItsTransaction", TestRiderRunsAgainWithItsTransaction},
	{"QWKSelection", TestQWKSelection},
	{"QWKPointersMoveOnlyWhenFetched", TestQWKPointersMoveOnlyWhenFetched},
	{"QWKMailReadOnlyWhenFetched", TestQWKMailReadOnlyWhenFetched},
	{"PostREP", TestPostREP},
	{"QWKPacketsExpire", TestQWKPacketsExpire},
}

// TestPostgres runs the shared suite on PostgreSQL. It is skipped, saying
// why, only when PostgreSQL is not installed. Each test has a database of
// its own, so they run in parallel: most of their time is spent waiting
// for the server.
func TestPostgres(t *testing.T) {
	pgtest.Shared(t)
	for _, tc := range sharedSuite {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t)
		})
	}
}

// TestPostgresRefusesUnstorableText: text PostgreSQL cannot hold (a NUL
// byte, invalid UTF-8) is refused with ErrUnstorableText, which is not a
// fault, and nothing is stored.
func TestPostgresRefusesUnstorableText(t *testing.T) {
	s, _ := newPGStore(t, testOptions)
	ctx := t.Context()
	if err := s.RegisterUser(ctx, "ann", "pw"); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"nul\x00byte", "bad \xff utf-8"} {
		_, err := s.PostMessage(ctx, "ann", []string{line})
		if !errors.Is(err, ErrUnstorableText) || errors.Is(err, ErrFault) {
			t.Errorf("PostMessage(%q) = %v; want ErrUnstorableText, not a fault", line, err)
		}
	}
	if n, err := s.MessageCount(ctx); n != 0 || err != nil {
		t.Errorf("MessageCount = %d, %v; want 0", n, err)
	}
}

// BenchmarkPostgres runs the store's visit benchmarks on PostgreSQL, to
// set beside their SQLite figures (BenchmarkVisitCalls, ...).
func BenchmarkPostgres(b *testing.B) {
	pgtest.Shared(b)
	b.Run("PostMessage", BenchmarkPostMessage)
	b.Run("VisitCalls", BenchmarkVisitCalls)
	b.Run("ReturningVisit", BenchmarkReturningVisit)
}
