package ftn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/shared/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// boardDB is where a test board's store lives: a fresh PostgreSQL
// database under TestPostgres, else bbs.db in dir.
func boardDB(t testing.TB, dir string) string {
	t.Helper()
	if strings.HasPrefix(t.Name(), "TestPostgres/") {
		return pgtest.NewDatabase(t)
	}
	return filepath.Join(dir, "bbs.db")
}

// TestPostgres runs the tosser's and the scanner's round trips and the
// hostile packets' tests again with the boards' stores on PostgreSQL (the packets, the outbound and the
// staging folder stay files).
func TestPostgres(t *testing.T) {
	pgtest.Shared(t)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"EchoRoundTripThreadsAndDupes", TestEchoRoundTripThreadsAndDupes},
		{"NetmailRoundTrip", TestNetmailRoundTrip},
		{"BadPacketsSetAsideWhileTheRestTosses", TestBadPacketsSetAsideWhileTheRestTosses},
		{"ScanSurvivesACrash", TestScanSurvivesACrash},
		{"EchoUplinks", TestEchoUplinks},
		{"ForwardBetweenUplinks", TestForwardBetweenUplinks},
		{"OwnPostComingBackIsADupe", TestOwnPostComingBackIsADupe},
		{"MsgIDVariantsAreDupes", TestMsgIDVariantsAreDupes},
		{"ZipBombBundleSetAsideWhole", TestZipBombBundleSetAsideWhole},
		{"NoMsgIDDupeAcrossRoutes", TestNoMsgIDDupeAcrossRoutes},
		{"ScanKeepsPacketsUnderTheTossLimit", TestScanKeepsPacketsUnderTheTossLimit},
		{"LongMessageCutNotLost", TestLongMessageCutNotLost},
		{"HugeTossLeavesCallersResponsive", TestHugeTossLeavesCallersResponsive},
		{"LocalPostCannotForgeKludges", TestLocalPostCannotForgeKludges},
		{"NetmailWrittenAsThisBoardIsRefused", TestNetmailWrittenAsThisBoardIsRefused},
		{"EchomailWrittenAsThisBoardIsRefused", TestEchomailWrittenAsThisBoardIsRefused},
	} {
		t.Run(tc.name, tc.fn)
	}
}
