//go:build libsqlite3

package hostile

// The suite builds m2bbs with the tags it was built with itself.
func init() { buildTags = "libsqlite3" }
