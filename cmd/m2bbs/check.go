package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/m2bbs/m2bbs/host/handler/scriptcheck"
)

// runCheck is "m2bbs check": compile every script and check the screens
// they name, the modules they require, the entry function and the globals
// they use, for use before a deploy. Problems go to stdout, one per line
// as FILE:LINE: message, then a summary; any problem but a warning makes
// the command fail (exit status 2). Warnings alone exit 0.
func runCheck(ctx context.Context, args []string, stderr io.Writer) error {
	return check(args, os.Stdout, stderr)
}

// check runs "m2bbs check" with args, writing the report to stdout.
func check(args []string, stdout, stderr io.Writer) error {
	var flags *flag.FlagSet
	s, err := parseSettings("check", args, stderr, func(fs *flag.FlagSet) { flags = fs })
	if err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("check: unexpected argument %q", flags.Arg(0))
	}
	report, err := scriptcheck.Check(scriptcheck.Config{
		ScriptsDir: s.ScriptsDir,
		ScreensDir: s.ScreensDir,
		MainScript: s.MainScript,
	})
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	for _, p := range report.Problems {
		fmt.Fprintln(w, p)
	}
	result := "ok"
	if n := report.Errors(); n > 0 {
		result = plural(n, "problem")
	}
	if n := report.Warnings(); n > 0 {
		result += ", " + plural(n, "warning")
	}
	fmt.Fprintf(w, "checked %s and %s: %s\n", plural(report.Scripts, "script"), plural(report.Screens, "screen"), result)
	if err := w.Flush(); err != nil {
		return fmt.Errorf("check: write report: %w", err)
	}
	if n := report.Errors(); n > 0 {
		return fmt.Errorf("check: %s found", plural(n, "problem"))
	}
	return nil
}

// plural says "1 script", "2 scripts".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
