package files

import (
	"errors"
	"strconv"
	"strings"
)

// ErrRange means a Range header asks for no byte of the file (HTTP 416).
var ErrRange = errors.New("files: range not satisfiable")

// maxRangeHeader bounds a Range header that is read.
const maxRangeHeader = 100

// ParseRange reads an HTTP Range header for a file of size bytes, so that
// a download cut short can go on: one range, "bytes=FIRST-" or
// "bytes=FIRST-LAST" (or "bytes=-N", the last N bytes). It returns the
// first byte and the number of bytes asked for; whole is true when the
// header asks for the whole file or is one ParseRange does not take
// (several ranges, another unit: the whole file is sent, as RFC 9110
// allows). ErrRange when the range starts past the end.
func ParseRange(header string, size int64) (first, n int64, whole bool, err error) {
	spec, ok := strings.CutPrefix(header, "bytes=")
	if header == "" || len(header) > maxRangeHeader || !ok || strings.Contains(spec, ",") {
		return 0, size, true, nil
	}
	a, b, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, true, nil
	}
	if a == "" { // the last b bytes
		last, err := strconv.ParseInt(b, 10, 64)
		if err != nil || last < 0 {
			return 0, size, true, nil
		}
		if last == 0 {
			return 0, 0, false, ErrRange
		}
		last = min(last, size)
		return size - last, last, last == size, nil
	}
	first, err = strconv.ParseInt(a, 10, 64)
	if err != nil || first < 0 {
		return 0, size, true, nil
	}
	end := size - 1
	if b != "" {
		if end, err = strconv.ParseInt(b, 10, 64); err != nil || end < first {
			return 0, size, true, nil
		}
		end = min(end, size-1)
	}
	if first >= size {
		return 0, 0, false, ErrRange
	}
	n = end - first + 1
	return first, n, first == 0 && n == size, nil
}
