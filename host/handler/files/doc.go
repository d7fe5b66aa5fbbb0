// Package files is the board's file areas: the sysop's areas (settings.go),
// files ingested into them from a temporary path (ingest.go) with their
// names checked so that nothing escapes an area's folder (names.go), a
// .zip's FILE_ID.DIZ or DESC.SDI as description (diz.go), an art file's
// SAUCE title, duplicates refused by name and content, quotas per area
// and per uploader, and a review folder where uploads wait for the
// sysop's approval. It also signs and checks the expiring links of HTTP
// downloads and uploads (links.go) and receives uploads sent in pieces
// (upload.go). The records are the store's (store.FileStore); the bytes
// are on disk under the settings' folder:
//
//	ROOT/AREA-FOLDER/NAME     a listed file
//	ROOT/review/AREA/NAME     an upload waiting for review
//	ROOT/incoming/NONCE.part  an HTTP upload being received
//
// Limits: names (MaxNameBytes, the characters of validName), file size
// (Settings.MaxFileBytes), descriptions (MaxDescriptionBytes,
// MaxDescriptionLines), a DIZ (MaxDIZBytes, MaxZipEntries), links
// (Settings.LinkLifetime, MaxTokenBytes), uploads (MaxPieceBytes,
// Settings.UploadRate, MaxUploads). See docs/files.md.
package files
