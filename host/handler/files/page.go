package files

import (
	"fmt"
	"html"
)

// UploadPage is the page a browser gets for an upload link (GET): whose
// link it is and where it uploads to (a caller handed someone else's
// link sees that it is not theirs), and a file picker whose script sends
// the file in MaxPieceBytes pieces to the same path (see upload.go),
// resending a piece after a 429 or from the offset a 409 gives, and
// shows the board's answer.
func UploadPage(link Link, maxFile int64) []byte {
	return fmt.Appendf(nil, uploadPageHTML, html.EscapeString(link.Area), html.EscapeString(link.User), maxFile, MaxPieceBytes)
}

// uploadPageHTML is UploadPage's text: the area, the user, the size
// limit, the piece size. The script posts to its own location.
const uploadPageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Upload a file</title>
<meta name="viewport" content="width=device-width">
<style>body{font-family:monospace;background:#000;color:#ccc;margin:2em}input,button{font:inherit}</style>
</head><body>
<h1>Upload a file to %s</h1>
<p>This link uploads as <strong>%s</strong>: use it only if that is you.</p>
<p>Files of up to %d bytes. Names: letters, digits and . _ - + ( ) ! ~</p>
<p><input type="file" id="file"></p>
<p><label>Description (a .zip's FILE_ID.DIZ wins): <input id="desc" size="50" maxlength="1000"></label></p>
<p><button id="send">Upload</button></p>
<p id="status" role="status"></p>
<script>
const piece = %d;
const status = document.getElementById('status');
const sleep = ms => new Promise(r => setTimeout(r, ms));
document.getElementById('send').onclick = async () => {
  const file = document.getElementById('file').files[0];
  if (!file) { status.textContent = 'Pick a file first.'; return; }
  let offset = 0;
  for (;;) {
    const last = offset + piece >= file.size;
    const q = new URLSearchParams({offset: String(offset)});
    if (last) { q.set('done', '1'); q.set('name', file.name); q.set('desc', document.getElementById('desc').value); }
    const body = file.slice(offset, Math.min(offset + piece, file.size));
    const res = await fetch(location.pathname + '?' + q, {method: 'POST', body});
    const answer = await res.json().catch(() => ({error: 'the board gave no answer'}));
    if (res.status === 429) { await sleep(1000); continue; }
    if (res.status === 409) { offset = answer.received; continue; }
    if (!res.ok) { status.textContent = 'Refused: ' + answer.error; return; }
    if (last) {
      status.textContent = 'Received ' + answer.name + ' (' + answer.size + ' bytes)' +
        (answer.waiting ? ': it waits for the sysop\'s review.' : '.');
      return;
    }
    offset = answer.received;
    status.textContent = 'Sent ' + offset + ' of ' + file.size + ' bytes...';
  }
};
</script>
</body></html>
`
