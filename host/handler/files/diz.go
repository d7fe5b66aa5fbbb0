package files

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/m2bbs/m2bbs/host/handler/screens"
)

// Limits of the descriptions read from files.
const (
	// MaxDIZBytes bounds a FILE_ID.DIZ or DESC.SDI, uncompressed.
	MaxDIZBytes = 4 << 10
	// MaxZipEntries bounds the entries of a .zip whose description is
	// read; a larger archive keeps the uploader's description.
	MaxZipEntries = 10000
	// MaxDescriptionBytes and MaxDescriptionLines bound a description.
	MaxDescriptionBytes = 1 << 10
	MaxDescriptionLines = 20
	// maxSauceTail is how much of an art file's end is read for its
	// SAUCE record: the record and the most comment lines.
	maxSauceTail = 128 + 5 + 255*64
)

// dizNames are the description files of an archive, in the order they
// are preferred, upper case.
var dizNames = []string{"FILE_ID.DIZ", "DESC.SDI"}

// ErrNoDescription means a file carries no description of its own.
var ErrNoDescription = errors.New("files: no description in the file")

// ReadDIZ returns the description a .zip of size bytes carries: its
// FILE_ID.DIZ (or DESC.SDI) at the top of the archive, decoded from
// CP437 and cleaned (CleanDescription). ErrNoDescription when it has
// none; an error for an archive that cannot be read or a DIZ larger than
// MaxDIZBytes.
func ReadDIZ(r io.ReaderAt, size int64) (string, error) {
	if err := checkDirectory(r, size); err != nil {
		return "", err
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return "", fmt.Errorf("files: read zip: %w", err)
	}
	if len(zr.File) > MaxZipEntries {
		return "", fmt.Errorf("files: zip: more than %d entries", MaxZipEntries)
	}
	for _, want := range dizNames {
		for _, f := range zr.File {
			if strings.ToUpper(path.Clean(f.Name)) != want {
				continue
			}
			return readDIZEntry(f)
		}
	}
	return "", ErrNoDescription
}

// Bounds of a zip's central directory, checked before archive/zip reads
// it whole (it keeps every entry in memory): its end record is within
// the last eocdSearch bytes.
const (
	eocdBytes  = 22
	eocdSearch = eocdBytes + 0xFFFF
	// maxDirectoryBytes bounds the central directory: MaxZipEntries
	// entries of 400 bytes each.
	maxDirectoryBytes = MaxZipEntries * 400
)

// checkDirectory refuses a zip whose end record claims more than
// MaxZipEntries entries or a central directory past maxDirectoryBytes,
// or a ZIP64 archive (its counts are elsewhere), so that a small upload
// cannot make archive/zip hold millions of entries in memory. An archive
// without an end record is left to archive/zip to refuse.
func checkDirectory(r io.ReaderAt, size int64) error {
	tail := min(size, eocdSearch)
	b := make([]byte, tail)
	if _, err := r.ReadAt(b, size-tail); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("files: read zip: %w", err)
	}
	i := bytes.LastIndex(b, []byte("PK\x05\x06"))
	if i < 0 || len(b)-i < eocdBytes {
		return nil
	}
	rec := b[i:]
	entries := uint32(rec[10]) | uint32(rec[11])<<8
	dirSize := uint32(rec[12]) | uint32(rec[13])<<8 | uint32(rec[14])<<16 | uint32(rec[15])<<24
	switch {
	case entries == 0xFFFF || dirSize == 0xFFFFFFFF:
		return errors.New("files: zip: ZIP64 archives are not read for a description")
	case entries > MaxZipEntries:
		return fmt.Errorf("files: zip: more than %d entries", MaxZipEntries)
	case dirSize > maxDirectoryBytes:
		return fmt.Errorf("files: zip: a central directory over %d bytes", maxDirectoryBytes)
	}
	return nil
}

// readDIZEntry reads one archive entry, within MaxDIZBytes whatever its
// header claims.
func readDIZEntry(f *zip.File) (string, error) {
	if f.UncompressedSize64 > MaxDIZBytes {
		return "", fmt.Errorf("files: %s: larger than %d bytes", f.Name, MaxDIZBytes)
	}
	rc, err := f.Open()
	if err != nil {
		return "", fmt.Errorf("files: open %s: %w", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxDIZBytes+1))
	if err != nil {
		return "", fmt.Errorf("files: read %s: %w", f.Name, err)
	}
	if len(b) > MaxDIZBytes {
		return "", fmt.Errorf("files: %s: larger than %d bytes", f.Name, MaxDIZBytes)
	}
	d := CleanDescription(decodeDIZ(b))
	if d == "" {
		return "", ErrNoDescription
	}
	return d, nil
}

// decodeDIZ decodes a DIZ: UTF-8 if it is valid UTF-8, else CP437.
func decodeDIZ(b []byte) string {
	if i := bytes.IndexByte(b, 0x1A); i >= 0 {
		b = b[:i]
	}
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for _, c := range b {
		sb.WriteRune(charmap.CodePage437.DecodeByte(c))
	}
	return sb.String()
}

// CleanDescription makes text a description: line ends made "\n",
// control characters dropped (no escape sequence reaches a caller's
// terminal), and so are format characters (bidirectional overrides,
// zero-width ones: Unicode's Cf) and noncharacters, trailing spaces and blank lines at the ends cut, at most
// MaxDescriptionLines lines and MaxDescriptionBytes bytes (cut at a
// character's boundary).
func CleanDescription(text string) string {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.Map(func(r rune) rune {
			if r == '\t' {
				return ' '
			}
			if r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) || r == utf8.RuneError || unicode.Is(unicode.Cf, r) || nonCharacter(r) {
				return -1
			}
			return r
		}, line)
		lines = append(lines, strings.TrimRight(line, " "))
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > MaxDescriptionLines {
		lines = lines[:MaxDescriptionLines]
	}
	out := strings.Join(lines, "\n")
	if len(out) > MaxDescriptionBytes {
		cut := MaxDescriptionBytes
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = strings.TrimRight(out[:cut], " \n")
	}
	return out
}

// nonCharacter reports whether r is one of Unicode's noncharacters.
func nonCharacter(r rune) bool {
	return (r >= 0xFDD0 && r <= 0xFDEF) || r&0xFFFE == 0xFFFE
}

// artExtensions are the names of files whose SAUCE title describes them.
var artExtensions = map[string]bool{".ans": true, ".asc": true, ".diz": true, ".nfo": true, ".txt": true, ".rip": true, ".xb": true, ".pcb": true, ".bin": true}

// ReadSauceTitle returns the SAUCE title (and author) of the art file f
// of size bytes, read from its last bytes with screens' reader;
// ErrNoDescription when it has none.
func ReadSauceTitle(f *os.File, size int64) (string, error) {
	tail := min(size, maxSauceTail)
	b := make([]byte, tail)
	if _, err := f.ReadAt(b, size-tail); err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("files: read SAUCE: %w", err)
	}
	_, rec, err := screens.SplitSauce(b)
	if err != nil {
		return "", fmt.Errorf("files: %w", err)
	}
	if rec == nil || rec.Title == "" {
		return "", ErrNoDescription
	}
	title := rec.Title
	if rec.Author != "" {
		title += " by " + rec.Author
	}
	return CleanDescription(title), nil
}

// describe returns the description the file f named name, of size
// bytes, carries,
// by its name's extension: a .zip's DIZ, an art file's SAUCE title; ""
// when it has none or it cannot be read (the upload is not refused for
// that).
func describe(f *os.File, name string, size int64) string {
	ext := strings.ToLower(path.Ext(name))
	var (
		d   string
		err error
	)
	switch {
	case ext == ".zip":
		d, err = ReadDIZ(f, size)
	case artExtensions[ext]:
		d, err = ReadSauceTitle(f, size)
	}
	if err != nil {
		return ""
	}
	return d
}
