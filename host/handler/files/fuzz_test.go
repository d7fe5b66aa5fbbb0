package files

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzReadDIZ: any bytes as an uploaded .zip: no panic, a description
// within its limits, no control character.
func FuzzReadDIZ(f *testing.F) {
	f.Add(zipWith(f, map[string]string{"FILE_ID.DIZ": "hello\r\nworld"}))
	f.Add(zipWith(f, map[string]string{"DESC.SDI": "\x1b[2J\xb0\xb1"}))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ReadDIZ(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if len(d) > MaxDescriptionBytes || strings.Count(d, "\n") >= MaxDescriptionLines {
			t.Fatalf("description past its limits: %d bytes", len(d))
		}
		for _, r := range d {
			if r < 0x20 && r != '\n' || r == 0x7F {
				t.Fatalf("control character %q in %q", r, d)
			}
		}
	})
}

// FuzzParseLink: any path: no panic; what parses signs back to the same
// payload, and a link never checks under a key it was not signed with.
func FuzzParseLink(f *testing.F) {
	s := Signer{Key: []byte("k")}
	f.Add(s.Path(Link{Kind: KindDownload, FileID: 1, User: "a", ConnID: "2", Expires: time.Unix(3, 0), Nonce: "n"}))
	f.Add(s.Path(Link{Kind: KindUpload, Area: "games", User: "a", Expires: time.Unix(3, 0), Nonce: "n"}))
	f.Add(s.Path(Link{Kind: KindPacket, Packet: strings.Repeat("0f", 16), User: "a", ConnID: "2", Expires: time.Unix(3, 0), Nonce: "n"}))
	f.Add(s.Path(Link{Kind: KindReply, User: "a", ConnID: "2", Expires: time.Unix(3, 0), Nonce: "n"}))
	f.Add("/files/d/x.y")
	f.Fuzz(func(t *testing.T, path string) {
		l, _, _, err := ParseLink(path)
		if err != nil {
			return
		}
		if _, err := (Signer{Key: []byte("other key")}).Check(path, time.Unix(0, 0)); err == nil {
			t.Fatalf("%q checked under another key", path)
		}
		again, _, _, err := ParseLink(s.Path(l))
		if err != nil || again != l {
			t.Fatalf("round trip of %+v: %+v %v", l, again, err)
		}
	})
}

// FuzzParsePiece: any query and body: no panic; an accepted last piece
// names a file that stays in its folder.
func FuzzParsePiece(f *testing.F) {
	f.Add("offset=0", []byte("abc"))
	f.Add("offset=10&done=1&name=a.zip&desc=hi", []byte{})
	f.Add("offset=0&done=1&name=..%2F..%2Fx", []byte{})
	f.Fuzz(func(t *testing.T, query string, body []byte) {
		p, err := ParsePiece(query, body)
		if err != nil {
			return
		}
		if len(p.Body) > MaxPieceBytes || p.Offset < 0 {
			t.Fatalf("accepted %+v", p)
		}
		if p.Done && filepath.Dir(filepath.Join("/area", p.Name)) != "/area" {
			t.Fatalf("name %q leaves the folder", p.Name)
		}
	})
}

// FuzzCheckName: an accepted name never leaves the area's folder.
func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"a.zip", "../../x", "..", "a/b", "NUL"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n, err := CheckName(name)
		if err != nil {
			return
		}
		if filepath.Dir(filepath.Join("/area", n)) != "/area" || n == "." || n == ".." {
			t.Fatalf("%q leaves the folder", n)
		}
	})
}

// FuzzParseRange: any Range header and size: no panic; what is asked
// for lies within the file.
func FuzzParseRange(f *testing.F) {
	for _, h := range []string{"bytes=0-", "bytes=100-199", "bytes=-5", "bytes=5-1", "bytes=0-1,5-6", "items=1-2", ""} {
		f.Add(h, int64(1000))
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			size = -size
		}
		first, n, whole, err := ParseRange(header, size)
		if err != nil {
			return
		}
		if first < 0 || n < 0 || first+n > size || (whole && (first != 0 || n != size)) {
			t.Fatalf("%q of %d: first %d, n %d, whole %v", header, size, first, n, whole)
		}
	})
}
