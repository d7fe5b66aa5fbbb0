package mongrel2

import (
	"strings"
	"testing"
)

// TestEnvKeepsTheSysopTokenOut: m2sh and Mongrel2 never get the sysop
// token from m2bbs's environment; the rest of it, and LOGNAME, they do.
func TestEnvKeepsTheSysopTokenOut(t *testing.T) {
	t.Setenv("M2BBS_SYSOP_TOKEN", "env-0123456789-abcdef-token")
	t.Setenv("M2BBS_TEST_KEPT", "1")
	t.Setenv("LOGNAME", "")
	got := strings.Join(env(), "\n")
	if strings.Contains(got, "M2BBS_SYSOP_TOKEN") || strings.Contains(got, "env-0123456789") {
		t.Error("the sysop token is in Mongrel2's environment")
	}
	if !strings.Contains(got, "M2BBS_TEST_KEPT=1") || !strings.Contains(got, "LOGNAME=") {
		t.Errorf("the rest of the environment is missing:\n%s", got)
	}
}
