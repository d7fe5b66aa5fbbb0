// bbs.js: the m2bbs browser terminal. It dials the board like a modem
// (ATZ, ATDT to a line from the directory, BUSY and redial, CONNECT), then
// plays the BBS conversation in xterm.js over a WebSocket that carries the
// classic client's JSON messages. Every URL is relative, so the page works
// from any folder a front end serves it in.
(function () {
  'use strict';

  // Hayes-style pauses, in milliseconds.
  const RESET_PAUSE = 250;   // between ATZ and OK
  const REDIAL_PAUSE = 1000; // after BUSY, before the next ATDT
  // The longest line the page lets a caller type.
  const MAX_INPUT = 1000;
  // Keystroke mode (a 'keys' message from the board): keys go to the
  // board as they are typed, at most KEYS_PER_SECOND requests a second
  // (faster keys are merged), each at most KEYS_CHUNK characters (a
  // paste is cut; 170 characters are at most 1,020 bytes as JSON, within
  // the board's 1,024), at most KEYS_PENDING characters held.
  const KEYS_PER_SECOND = 30;
  const KEYS_CHUNK = 170;
  const KEYS_PENDING = 4096;

  // m2bbs is the page's state, for people poking around and for tests.
  const m2bbs = {
    phase: 'starting', // dialing, online, allbusy, hungup, broken
    line: null,        // the line dialed last (0: the single host)
    dialed: [],        // every line dialed, in order
    prompts: 0,        // prompts the BBS sent on this call
    waiting: false,    // the BBS waits for a line
    secret: false,     // ... that the page does not show (a password)
    keys: false,       // keystroke mode: the board gets each key
    text: function () { return ''; },
  };
  window.m2bbs = m2bbs;

  const trouble = document.getElementById('trouble');

  if (typeof window.Terminal !== 'function' || typeof window.FitAddon !== 'object') {
    m2bbs.phase = 'broken';
    trouble.hidden = false;
    trouble.textContent = 'NO CARRIER\n\nThe terminal (xterm.js) did not load, so this page cannot dial the BBS.\n' +
      'Its files go in vendor/ beside this page: build them with  make web  and rebuild m2bbs.';
    return;
  }

  const narrow = window.matchMedia('(max-width: 600px)').matches;
  const term = new window.Terminal({
    cursorBlink: true,
    scrollback: 5000,
    convertEol: true, // the BBS ends lines with \n
    fontFamily: '"DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace',
    fontSize: narrow ? 13 : 16,
    theme: {
      background: '#000000',
      foreground: '#33ff33',
      cursor: '#33ff33',
      cursorAccent: '#000000',
      selectionBackground: '#1f7a1f',
      // The BBS's plain text is grey (pipe code |07): on this screen grey
      // is the phosphor's green, and bright white a paler green.
      white: '#33ff33',
      brightWhite: '#ccffcc',
    },
  });
  const fit = new window.FitAddon.FitAddon();
  term.loadAddon(fit);
  const screen = document.getElementById('screen');
  term.open(screen);
  const refit = function () {
    try { fit.fit(); } catch (e) { /* not laid out yet */ }
  };
  refit();
  window.addEventListener('resize', refit);
  if (window.visualViewport) window.visualViewport.addEventListener('resize', refit);
  // terminal describes this terminal to the board with every line
  // (conn:terminal() in scripts): its size as the fit addon made it.
  const terminal = function () {
    return { type: 'xterm.js', width: term.cols, height: term.rows, encoding: 'utf-8', ansi: true, keys: true };
  };
  screen.addEventListener('click', function () { term.focus(); });
  term.focus();

  // text returns what the terminal shows, scrollback included, one
  // string per screen line (lines the terminal wrapped are joined).
  m2bbs.text = function () {
    const buf = term.buffer.active;
    const out = [];
    for (let i = 0; i < buf.length; i++) {
      const line = buf.getLine(i);
      if (!line) continue;
      const s = line.translateToString(true);
      if (line.isWrapped && out.length > 0) out[out.length - 1] += s;
      else out.push(s);
    }
    while (out.length > 0 && out[out.length - 1] === '') out.pop();
    return out.join('\n');
  };

  // coloured reports whether the first character of the last screen line
  // that starts with text has a colour of its own (null: no such line).
  m2bbs.coloured = function (text) {
    const buf = term.buffer.active;
    for (let i = buf.length - 1; i >= 0; i--) {
      const line = buf.getLine(i);
      if (line && line.translateToString(true).startsWith(text)) {
        const cell = line.getCell(0);
        return !!cell && !cell.isFgDefault();
      }
    }
    return null;
  };

  // size is the terminal's size in characters.
  m2bbs.size = function () { return { cols: term.cols, rows: term.rows }; };

  const say = function (s) { term.write(s + '\n'); };
  const sleep = function (ms) { return new Promise(function (r) { setTimeout(r, ms); }); };

  // dialOrder is the lines given as ?dial=2,1 (always dialed in that
  // order), or null.
  const dialOrder = (function () {
    const p = new URLSearchParams(window.location.search).get('dial');
    if (!p) return null;
    const nums = p.split(',').map(Number).filter(function (n) { return Number.isInteger(n) && n > 0; });
    return nums.length > 0 ? nums : null;
  })();

  // directory reads the phone lines, or null when the BBS has none.
  async function directory() {
    try {
      const resp = await fetch('lines', { cache: 'no-store' });
      if (!resp.ok) return null;
      const lines = await resp.json();
      return Array.isArray(lines) && lines.length > 0 ? lines : null;
    } catch (e) {
      return null;
    }
  }

  function shuffle(a) {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      const t = a[i]; a[i] = a[j]; a[j] = t;
    }
    return a;
  }

  // The call in progress.
  let ws = null;
  let prompt = null; // {secret} while the BBS waits for a line
  let input = '';
  let lastBusy = '';

  // call dials until a line answers, or every line was busy.
  async function call() {
    m2bbs.phase = 'dialing';
    m2bbs.dialed = [];
    m2bbs.prompts = 0;
    say('ATZ');
    await sleep(RESET_PAUSE);
    say('OK');
    let order = dialOrder;
    if (!order) {
      const lines = await directory();
      if (!lines) {
        order = [0];
      } else {
        const up = lines.filter(function (l) { return l.up; });
        order = shuffle((up.length > 0 ? up : lines).map(function (l) { return l.line; }));
      }
    }
    for (let i = 0; i < order.length; i++) {
      const n = order[i];
      if (i > 0) await sleep(REDIAL_PAUSE);
      m2bbs.line = n;
      m2bbs.dialed.push(n);
      say('ATDT ' + (n > 0 ? n : 'BBS'));
      const result = await dial(n);
      if (result === 'connected') return;
      say(result === 'busy' ? 'BUSY' : 'NO ANSWER');
    }
    m2bbs.phase = 'allbusy';
    say('');
    if (lastBusy) say(lastBusy);
    say('Every line was busy. Press Enter to redial.');
  }

  // dial opens line n (0: the single host) and resolves with 'connected'
  // once the BBS talks, 'busy' when it answers with an exit message at
  // once (a full line), or 'noanswer' when the call fails.
  function dial(n) {
    return new Promise(function (resolve) {
      const url = new URL(n > 0 ? 'ws/' + n : 'ws', window.location.href);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      let sock;
      try {
        sock = new WebSocket(url.href);
      } catch (e) {
        resolve('noanswer');
        return;
      }
      let answered = false;
      sock.onopen = function () {
        sock.send(JSON.stringify({ type: 'msg', msg: 'connect', ansi: true, terminal: terminal() }));
      };
      sock.onmessage = function (ev) {
        let m;
        try { m = JSON.parse(ev.data); } catch (e) { return; }
        if (!m || typeof m !== 'object') return;
        if (!answered) {
          answered = true;
          if (m.type === 'exit') {
            lastBusy = typeof m.msg === 'string' ? m.msg : '';
            sock.close();
            resolve('busy');
            return;
          }
          ws = sock;
          m2bbs.phase = 'online';
          say('CONNECT 2400');
          resolve('connected');
        }
        showAbove(m);
      };
      sock.onclose = function () {
        if (!answered) {
          answered = true;
          resolve('noanswer');
        } else if (ws === sock) {
          hangUp();
        }
      };
    });
  }

  // Keystroke mode's state: keys not sent yet, and when the last
  // request went.
  let keysPending = '';
  let keysLast = 0;
  let keysTimer = null;

  // sendKeys sends the keys that wait, paced.
  function sendKeys() {
    keysTimer = null;
    if (!m2bbs.keys || keysPending === '') return;
    const wait = keysLast + 1000 / KEYS_PER_SECOND - Date.now();
    if (wait > 0) {
      keysTimer = setTimeout(sendKeys, wait);
      return;
    }
    const chars = Array.from(keysPending);
    const keys = chars.slice(0, KEYS_CHUNK).join('');
    keysPending = chars.slice(KEYS_CHUNK).join('');
    keysLast = Date.now();
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'keys', msg: keys, ansi: true, terminal: terminal() }));
    if (keysPending !== '') keysTimer = setTimeout(sendKeys, 1000 / KEYS_PER_SECOND);
  }

  // endKeys leaves keystroke mode; keys not sent are dropped.
  function endKeys() {
    m2bbs.keys = false;
    keysPending = '';
    if (keysTimer) clearTimeout(keysTimer);
    keysTimer = null;
  }

  // show prints one BBS message as the classic client does; a 'keys'
  // message is terminal output written as it is, and starts keystroke
  // mode, which a prompt or an exit ends (a screen is shown, and the
  // mode goes on).
  function show(m) {
    if (m.type === 'keys') {
      if (!m2bbs.keys) {
        m2bbs.keys = true;
        prompt = null;
        input = '';
        m2bbs.waiting = false;
      }
      if (typeof m.msg === 'string') term.write(m.msg);
      return;
    }
    if (m.type === 'prompt' || m.type === 'exit') endKeys();
    if (typeof m.msg === 'string' && m.msg !== '') {
      say(m.msg);
      fileLinks(m.msg);
    }
    if (m.type === 'prompt') {
      if (typeof m.pchar === 'string') term.write(m.pchar);
      prompt = { secret: m.secret === true };
      input = '';
      m2bbs.prompts++;
      m2bbs.waiting = true;
      m2bbs.secret = prompt.secret;
    } else if (m.type === 'exit') {
      hangUp();
    }
  }

  // fileLinks turns the board's file links in text (/files/d/... to
  // download, /files/u/... to upload: docs/files.md; /files/q/... and
  // /files/r/... for QWK packets: docs/qwk.md) into links above the
  // terminal, newest first, at most five; they open on this page's own
  // address, which passes them to the board.
  function fileLinks(text) {
    const found = text.match(/(?:https?:\/\/[^\s\/]+)?\/files\/[duqr]\/[A-Za-z0-9_.-]+(?:\?name=[A-Za-z0-9.]+)?/g);
    if (!found) return;
    const bar = document.getElementById('links');
    bar.hidden = false;
    found.forEach(function (href) {
      const path = href.replace(/^https?:\/\/[^\/]+/, '');
      const a = document.createElement('a');
      a.href = path;
      a.target = '_blank';
      a.rel = 'noopener';
      a.textContent = {d: 'Download', u: 'Upload a file', q: 'Download your QWK packet', r: 'Upload your QWK reply packet'}[path.charAt(7)];
      bar.insertBefore(a, bar.firstChild);
    });
    while (bar.children.length > 5) bar.removeChild(bar.lastChild);
  }

  // hangUp ends the call once.
  function hangUp() {
    if (m2bbs.phase !== 'online') return;
    const sock = ws;
    ws = null;
    prompt = null;
    endKeys();
    input = '';
    m2bbs.waiting = false;
    if (sock) sock.close();
    m2bbs.phase = 'hungup';
    say('');
    say('NO CARRIER');
    say('Press Enter to call again.');
  }

  // showAbove shows a message as show does; one that comes while the
  // caller types an answer (a chat line, a page) goes above the prompt,
  // which is written again with what was typed (interrupt, retype): the
  // answer is kept, on the screen too.
  let promptChar = ''; // the pchar of the last prompt shown
  function showAbove(m) {
    const typing = prompt !== null && m.type !== 'keys';
    const wasSecret = typing && prompt.secret;
    const kept = input;
    if (typing) interrupt(wasSecret ? '*'.repeat(Array.from(kept).length) : kept);
    show(m);
    if (m.type === 'prompt') promptChar = typeof m.pchar === 'string' ? m.pchar : '';
    if (!typing || !prompt) return; // not typing, or the call or the prompt ended
    // Half a secret is neither shown nor the start of an answer that is not one.
    if (wasSecret && !prompt.secret) return;
    if (m.type !== 'prompt') term.write(promptChar);
    input = kept;
    retype();
  }

  // interrupt clears the line where the caller types, or, when the
  // prompt and the answer are wider than the terminal, starts a new one.
  function interrupt(typed) {
    const cols = columns(promptChar) + columns(typed);
    term.write(cols >= term.cols ? '\r\n' : '\r\x1b[K');
  }

  // columns is how many columns s takes on the terminal: two for an East
  // Asian wide or fullwidth character (and the wide emoji), one for any
  // other.
  function columns(s) {
    let n = 0;
    for (const ch of s) {
      const c = ch.codePointAt(0);
      const wide = (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0x303e) ||
        (c >= 0x3041 && c <= 0x33ff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) ||
        (c >= 0xa000 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
        (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6) ||
        (c >= 0x1f300 && c <= 0x1f64f) || (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd);
      n += wide ? 2 : 1;
    }
    return n;
  }

  // retype writes again what the caller had typed of their answer.
  function retype() {
    term.write(prompt.secret ? '*'.repeat(Array.from(input).length) : input);
  }

  // send answers the prompt with the line typed.
  function send() {
    term.write('\r\n');
    const line = input;
    prompt = null;
    input = '';
    m2bbs.waiting = false;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'msg', msg: line, ansi: true, terminal: terminal() }));
  }

  // Local line editing: the BBS gets whole lines.
  term.onData(function (data) {
    if (m2bbs.phase === 'allbusy' || m2bbs.phase === 'hungup') {
      if (data.indexOf('\r') >= 0) {
        say('');
        call();
      }
      return;
    }
    if (m2bbs.phase === 'online' && m2bbs.keys) {
      // At most KEYS_PENDING held: the rest of a huge paste is dropped.
      keysPending += Array.from(data).slice(0, Math.max(KEYS_PENDING - keysPending.length, 0)).join('');
      if (!keysTimer) sendKeys();
      return;
    }
    if (m2bbs.phase !== 'online' || !prompt) return;
    if (data.charAt(0) === '\x1b') return; // arrows, function keys
    for (const ch of data) {
      if (ch === '\r' || ch === '\n') {
        send();
        return;
      }
      if (ch === '\x7f' || ch === '\b') {
        if (input.length > 0) {
          const chars = Array.from(input);
          chars.pop();
          input = chars.join('');
          term.write('\b \b');
        }
      } else if (ch === '\x15') { // Ctrl-U: erase the line
        const n = Array.from(input).length;
        input = '';
        term.write('\b \b'.repeat(n));
      } else if (ch >= ' ' && input.length < MAX_INPUT) {
        input += ch;
        term.write(prompt.secret ? '*' : ch);
      }
    }
  });

  call();
})();
