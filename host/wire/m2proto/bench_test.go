package m2proto

import "testing"

// benchPrompt is the JSON of a typical prompt the host sends.
var benchPrompt = []byte(`{"msg":"---(((MAIN MENU)))---\n1. Leave a message.\n2. Read messages left.\n3. Send to someone else.\n4. Read messages to you.\nQ. Quit the BBS.","pchar":"> ","type":"prompt"}`)

// BenchmarkCodecPerPrompt is the codec's share of one prompt round trip in
// the host: parse the caller's request, frame the prompt for the classic
// client and wrap it in a reply to the front end.
func BenchmarkCodecPerPrompt(b *testing.B) {
	msg := []byte(capturedConnect)
	var frame, reply []byte
	b.ReportAllocs()
	for b.Loop() {
		req, err := ParseRequest(msg)
		if err != nil {
			b.Fatal(err)
		}
		frame = AppendClientFrame(frame[:0], benchPrompt, false)
		reply = AppendReply(reply[:0], req.Sender, []string{req.ConnID}, frame)
	}
}

func BenchmarkParseReply(b *testing.B) {
	msg := []byte(capturedReply)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := ParseReply(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendClientFrame(b *testing.B) {
	var frame []byte
	b.SetBytes(int64(len(benchPrompt)))
	b.ReportAllocs()
	for b.Loop() {
		frame = AppendClientFrame(frame[:0], benchPrompt, false)
	}
}
