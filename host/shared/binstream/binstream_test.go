package binstream

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestBatcherCutsAndHoldsBack(t *testing.T) {
	var b Batcher
	data := make([]byte, MaxPendingBytes+100)
	for i := range data {
		data[i] = byte(i)
	}
	if dropped := b.Add(data); dropped != 100 || !b.Full() {
		t.Fatalf("dropped %d, full %v; want 100 dropped and full", dropped, b.Full())
	}
	var got []byte
	for b.Pending() > 0 {
		msg := b.Next()
		p, err := Decode(msg, MaxRequestBytes)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) > MaxRequestBytes {
			t.Fatalf("piece of %d bytes", len(p))
		}
		got = append(got, p...)
	}
	if !bytes.Equal(got, data[:MaxPendingBytes]) {
		t.Fatal("bytes changed on the way")
	}
	if b.Next() != "" {
		t.Fatal("Next of nothing is not empty")
	}
}

func TestDecodeRefusesLongAndBad(t *testing.T) {
	long := Encode(make([]byte, MaxRequestBytes+1))
	if _, err := Decode(long, MaxRequestBytes); !errors.Is(err, ErrTooLong) {
		t.Fatalf("long piece: %v", err)
	}
	if _, err := Decode("no base64!", MaxRequestBytes); err == nil {
		t.Fatal("bad base64 accepted")
	}
	if p, err := Decode(Encode([]byte{0xff, 0, '\r'}), MaxRequestBytes); err != nil || !bytes.Equal(p, []byte{0xff, 0, '\r'}) {
		t.Fatalf("round trip: %q %v", p, err)
	}
}

func TestPacer(t *testing.T) {
	p := NewPacer()
	now := time.Unix(100, 0)
	if p.Wait(now) != 0 {
		t.Fatal("the first request waits")
	}
	p.Sent(now)
	if w := p.Wait(now); w != Interval || Interval != 10*time.Millisecond {
		t.Fatalf("wait %v, want %v (100 a second)", w, Interval)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode([]byte("hello")))
	f.Add("====")
	f.Add(Encode(make([]byte, MaxRequestBytes)))
	f.Fuzz(func(t *testing.T, msg string) {
		p, err := Decode(msg, MaxRequestBytes)
		if err != nil {
			return
		}
		if len(p) > MaxRequestBytes {
			t.Fatalf("%d bytes past the limit", len(p))
		}
		if q, err := Decode(Encode(p), MaxRequestBytes); err != nil || !bytes.Equal(p, q) {
			t.Fatalf("round trip of %q: %q %v", p, q, err)
		}
	})
}
