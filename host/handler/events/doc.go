// Package events runs the sysop's scheduled Lua jobs: a nightly door
// reset, a daily maintenance, a weekly bulletin.
//
// A job is declared in the scripts folder's events.lua (see
// docs/events.md) with a name, a Schedule (Parse: "daily 03:00", "weekly
// sun 18:00", "every 10m"), a time zone and what to do about runs missed
// while the board was down (Missed). A Scheduler looks at the clock it is
// given, claims each due run in the shared store so that exactly one host
// of the board runs it however many phone lines there are, has a Runner
// run it (the host runs it on a Lua worker, within the resume budget),
// and stores and logs the outcome.
package events
