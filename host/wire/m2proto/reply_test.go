package m2proto

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Captured from a handler talking to Mongrel2 1.12.2 (see shared/PROTOCOL.md).
const capturedReply = `ceo-bbs-handler 1:1, {"type": "prompt", "msg": "hello 1", "pchar": "> "}`

func TestAppendReply(t *testing.T) {
	tests := []struct {
		name   string
		sender string
		ids    []string
		body   string
		want   string
	}{
		{"captured", "ceo-bbs-handler", []string{"1"}, `{"type": "prompt", "msg": "hello 1", "pchar": "> "}`, capturedReply},
		{"several ids", "h", []string{"1", "22", "333"}, "x", "h 8:1 22 333, x"},
		{"close", "h", []string{"42"}, "", "h 2:42, "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendReply([]byte("old"), tt.sender, tt.ids, []byte(tt.body))
			if string(got) != "old"+tt.want {
				t.Fatalf("AppendReply = %q, want %q", got, "old"+tt.want)
			}
			sender, ids, body, err := ParseReply(got[3:])
			if err != nil {
				t.Fatalf("ParseReply: %v", err)
			}
			if sender != tt.sender || !slices.Equal(ids, tt.ids) || string(body) != tt.body {
				t.Errorf("ParseReply = %q %q %q, want %q %q %q", sender, ids, body, tt.sender, tt.ids, tt.body)
			}
		})
	}
}

func TestParseReplyAsMongrel2(t *testing.T) {
	// Mongrel2 lets each id be followed by at most one space, so a trailing
	// space is fine and a body may contain anything.
	sender, ids, body, err := ParseReply([]byte("a-B-9 4:1 2 , \x00body, with: 1:x,"))
	if err != nil {
		t.Fatal(err)
	}
	if sender != "a-B-9" || !slices.Equal(ids, []string{"1", "2"}) || string(body) != "\x00body, with: 1:x," {
		t.Errorf("ParseReply = %q %q %q", sender, ids, body)
	}
}

func TestParseReplyErrors(t *testing.T) {
	maxIDs := make([]string, MaxReplyTargets)
	for i := range maxIDs {
		maxIDs[i] = fmt.Sprint(i)
	}
	atLimit := AppendReply(nil, "h", maxIDs, []byte("x"))
	if _, ids, _, err := ParseReply(atLimit); err != nil || len(ids) != MaxReplyTargets {
		t.Fatalf("ParseReply with %d ids: %d ids, %v", MaxReplyTargets, len(ids), err)
	}
	overLimit := AppendReply(nil, "h", append(maxIDs, "999"), []byte("x"))

	tests := []struct {
		name   string
		msg    string
		kind   error
		reason string
	}{
		{"empty", "", ErrMalformed, "missing space after sender"},
		{"empty sender", " 1:1, x", ErrMalformed, "empty sender"},
		{"bad sender", "ab_c 1:1, x", ErrMalformed, "sender may hold only"},
		{"no targets netstring", "h x", ErrMalformed, "want a length digit"},
		{"length overflow", "h 1234567890:1, x", ErrMalformed, "more than 9 digits"},
		{"truncated", "h 5:1, x", ErrMalformed, "truncated"},
		{"wrong length", "h 2:1, x", ErrMalformed, "want ',' after the conn ids"},
		{"no ids", "h 0:, x", ErrMalformed, "no conn ids"},
		{"non-numeric id", "h 1:a, x", ErrMalformed, "want a decimal conn id"},
		{"double space", "h 4:1  2, x", ErrMalformed, "want a decimal conn id"},
		{"extended", "h 3:X 1, x", ErrMalformed, "extended"},
		{"missing space before body", "h 1:1,x", ErrMalformed, "want ' ' before body"},
		{"nothing after ids", "h 1:1,", ErrMalformed, "missing space before body"},
		{"too many ids", string(overLimit), ErrTooLarge, "more than 128 conn ids"},
		{"too large", "h 1:1, " + strings.Repeat("x", MaxMessageBytes), ErrTooLarge, "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := ParseReply([]byte(tt.msg))
			var pe *ProtocolError
			if !errors.As(err, &pe) || !errors.Is(err, tt.kind) {
				t.Fatalf("ParseReply error = %v, want a %v ProtocolError", err, tt.kind)
			}
			if pe.Op != "reply" || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
		})
	}
}

func TestSplitTargets(t *testing.T) {
	ids := make([]string, 2*MaxReplyTargets+3)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	groups := SplitTargets(ids)
	if len(groups) != 3 || len(groups[0]) != MaxReplyTargets || len(groups[1]) != MaxReplyTargets || len(groups[2]) != 3 {
		t.Fatalf("SplitTargets(%d ids) gave groups of %v", len(ids), lens(groups))
	}
	if !slices.Equal(slices.Concat(groups...), ids) {
		t.Errorf("groups do not hold the ids in order")
	}
	// Appending to a group must not overwrite the next one.
	_ = append(groups[0], "x")
	if groups[1][0] != fmt.Sprint(MaxReplyTargets) {
		t.Errorf("append to a group overwrote the next group")
	}
	if SplitTargets(nil) != nil {
		t.Errorf("SplitTargets(nil) is not nil")
	}
}

func lens(groups [][]string) []int {
	var n []int
	for _, g := range groups {
		n = append(n, len(g))
	}
	return n
}

func BenchmarkAppendReply(b *testing.B) {
	body := []byte(`{"type": "prompt", "msg": "hello 1", "pchar": "> "}`)
	ids := []string{"1", "22", "333"}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendReply(buf[:0], "ceo-bbs-handler", ids, body)
	}
}
