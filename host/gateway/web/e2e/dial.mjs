// dial.mjs: the m2bbs page in a real browser. Playwright (playwright-core)
// drives Debian's Chromium, headless, through what a caller does and sees:
//
//   1. at a phone-sized viewport: the page dials, hears BUSY on the full
//      line, gets CONNECT on the next, and fits the screen; it hangs up at
//      the name prompt;
//   2. on a desktop-sized one: the same dialing, then a new user logs in
//      (password typed twice, never shown), leaves a 3-line message in the
//      full-screen editor (keystroke mode), reads
//      it back, looks at the wall (its title in colour), quits and sees NO
//      CARRIER.
//
// Usage: node dial.mjs URL SCREENSHOT.png
//
// URL is the page, with ?dial=FULL,FREE to dial the full line first (the
// caller of this script keeps line FULL busy). The desktop screenshot goes
// to SCREENSHOT.png, the phone one beside it (-phone.png). On success the
// last line printed is RESULT {"user":..,"lines":[..],"dialed":[..]}; on
// failure the exit status is 1 and the terminal's text is printed.
//
// Environment: CHROMIUM (default /usr/bin/chromium), M2BBS_USER (default a
// fresh name), STEP_TIMEOUT_MS (default 15000).

import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const [url, shot] = process.argv.slice(2);
if (!url || !shot) {
  console.error('usage: node dial.mjs URL SCREENSHOT.png');
  process.exit(2);
}
const STEP = Number(process.env.STEP_TIMEOUT_MS || 15000);
const user = process.env.M2BBS_USER || `web${process.pid}`;
const password = `pw-${Math.random().toString(36).slice(2, 10)}`;
const message = [
  `Hello from ${user} in a browser.`,
  'Second line, green on black.',
  'Third line, then NO CARRIER.',
];
// The flags Chromium needs on a machine without a desktop or a network.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// Failure is an Error carrying the terminal's text, for the report.
class Failure extends Error {
  constructor(msg, screen) {
    super(msg);
    this.screen = screen;
  }
}

// Caller is one page of the BBS in one browser profile.
class Caller {
  constructor(name, page) {
    this.name = name;
    this.page = page;
    this.answered = 0; // prompts answered
    this.mark = 0;     // screen lines before the last answer
    this.errors = [];
    page.on('pageerror', (err) => this.errors.push(`page error: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') this.errors.push(`console error: ${m.text()}`);
    });
  }

  screen() {
    return this.page.evaluate(() => (window.m2bbs ? window.m2bbs.text() : document.body.innerText));
  }

  async fail(msg) {
    let screen = '';
    try { screen = await this.screen(); } catch (e) { screen = `(no screen: ${e.message})`; }
    throw new Failure(`${this.name}: ${msg}`, screen);
  }

  // state is window.m2bbs as data, and the screen's text.
  state() {
    return this.page.evaluate(() => {
      const s = window.m2bbs;
      if (!s) return { phase: 'none', screen: document.body.innerText };
      return {
        phase: s.phase, prompts: s.prompts, waiting: s.waiting, secret: s.secret, keys: s.keys,
        dialed: s.dialed, screen: s.text(),
      };
    });
  }

  // waitFor polls the page until fn(state, state.screen, arg) holds. It
  // runs fn here, not in the page, whose security policy allows no eval.
  async waitFor(what, fn, arg) {
    const deadline = Date.now() + STEP;
    for (;;) {
      const st = await this.state();
      if (st.phase === 'broken') await this.fail(`waiting for ${what}: the page could not start`);
      if (fn(st, st.screen, arg)) return st;
      if (Date.now() > deadline) await this.fail(`waiting for ${what}: not there after ${STEP} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // dialIn waits for the modem's dialing: BUSY on a line, then CONNECT.
  async dialIn() {
    await this.waitFor('CONNECT', (s, screen) => s.phase === 'online' && screen.includes('CONNECT'));
    const screen = await this.screen();
    const busy = screen.search(/^ATDT \S+\nBUSY$/m);
    const connect = screen.search(/^ATDT \S+\nCONNECT/m);
    if (!screen.startsWith('ATZ\nOK\n') || busy < 0 || connect < 0 || busy > connect) {
      await this.fail('the dialing was not ATZ, OK, ATDT .. BUSY, ATDT .. CONNECT');
    }
    const focused = await this.page.evaluate(() => document.activeElement && document.activeElement.classList.contains('xterm-helper-textarea'));
    if (!focused) await this.fail('the terminal does not have the keyboard focus');
  }

  // answer waits for the next prompt, whose text since the last answer
  // includes expect, and types line and Enter. secret, when given, is
  // whether the prompt must be one whose answer is not shown.
  async answer(expect, line, secret) {
    const st = await this.waitFor(`a prompt after ${JSON.stringify(expect)}`, (s, screen, arg) =>
      s.waiting && s.prompts > arg.answered && screen.split('\n').slice(arg.mark).join('\n').includes(arg.expect),
    { answered: this.answered, mark: this.mark, expect });
    if (secret !== undefined && st.secret !== secret) {
      await this.fail(`the prompt after ${JSON.stringify(expect)} has secret=${st.secret}, want ${secret}`);
    }
    this.answered = st.prompts;
    this.mark = st.screen.split('\n').length;
    await this.page.keyboard.type(line, { delay: 5 });
    await this.page.keyboard.press('Enter');
  }
}

// withBrowser runs fn with a browser context in a fresh profile.
async function withBrowser(options, fn) {
  const profile = mkdtempSync(join(tmpdir(), 'm2bbs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    ...options,
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    return await fn(page);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

// online is the number of callers the directory lists, or -1 without one.
async function online() {
  const resp = await fetch(new URL('lines', url));
  if (!resp.ok) return -1;
  return (await resp.json()).reduce((n, l) => n + (l.up ? l.online : 0), 0);
}

// phone dials in at 390x844, checks that the terminal fits, and hangs up
// at the name prompt.
async function phone() {
  const before = await online();
  await withBrowser({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }, async (page) => {
    const c = new Caller('phone', page);
    await page.goto(url);
    await c.dialIn();
    await c.waitFor('the name prompt', (s, screen) => s.waiting && screen.includes("What's your name?"));
    const fit = await page.evaluate(() => {
      const box = document.querySelector('.xterm-screen').getBoundingClientRect();
      return {
        ...window.m2bbs.size(),
        right: box.right,
        width: window.innerWidth,
        scrollWidth: document.documentElement.scrollWidth,
      };
    });
    if (fit.right > fit.width || fit.scrollWidth > fit.width || fit.cols < 40 || fit.rows < 20) {
      await c.fail(`the terminal does not fit a phone: ${JSON.stringify(fit)}`);
    }
    await page.keyboard.type(user, { delay: 5 });
    mkdirSync(dirname(shot), { recursive: true });
    await page.screenshot({ path: shot.replace(/\.png$/, '') + '-phone.png' });
    if (c.errors.length > 0) await c.fail(c.errors.join('\n'));
  });
  // Hanging up frees the line; wait until the directory says so.
  if (before >= 0) {
    const deadline = Date.now() + STEP;
    while (await online() > before) {
      if (Date.now() > deadline) throw new Failure('phone: the line was not freed after hanging up', '');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

// desktop is the whole visit.
async function desktop() {
  return withBrowser({ viewport: { width: 1024, height: 768 } }, async (page) => {
    const c = new Caller('desktop', page);
    await page.goto(url);
    await c.dialIn();
    // The page is a terminal: the board sends its ANSI welcome art
    // (screens/welcome.ans), box and block characters decoded from CP437.
    await c.waitFor('the welcome art', (s, screen) => screen.includes('█▄ ▄█') && screen.includes('╔═══'));
    await c.answer("What's your name?", user, false);
    await c.answer("What's your password?", password, true);
    await c.answer('Type your password again', password);
    await c.answer('Do you want to continue?', 'y');
    await c.answer('MAIN MENU', '1');
    // The full-screen editor, in keystroke mode: each key goes to the
    // board as it is typed, and the board draws the text.
    await c.waitFor('the editor', (s, screen) => s.keys && screen.includes('^Z Save'));
    for (let i = 0; i < message.length; i++) {
      if (i > 0) await page.keyboard.press('Enter');
      await page.keyboard.type(message[i], { delay: 5 });
    }
    await c.waitFor('the text typed in the editor', (s, screen, m) => screen.includes(m), message[2]);
    await page.keyboard.press('Control+z');
    c.mark = 0; // the editor cleared the screen: its text starts at the top
    await c.answer('Message posted.', '2');
    await c.answer(`From: ${user}\n${message.join('\n')}`, 'Q');
    await c.answer('MAIN MENU', '6');
    // The wall's title comes in colour (pipe codes, sent as ANSI).
    await c.answer('Write a one-liner', '');
    const wall = await page.evaluate(() => window.m2bbs.coloured('The wall'));
    const raw = await c.screen();
    if (wall !== true || raw.includes('|15') || raw.includes('\x1b')) {
      await c.fail(`the wall's title is not drawn in colour (coloured=${wall})`);
    }
    await c.answer('MAIN MENU', 'Q');
    await c.waitFor('NO CARRIER', (s, screen) => s.phase === 'hungup' && screen.includes('NO CARRIER'));
    const screen = await c.screen();
    if (!screen.includes('Alright, see ya later.')) await c.fail('no goodbye before NO CARRIER');
    if (screen.includes(password)) await c.fail('the password is shown on the screen');
    const { dialed } = await c.state();
    mkdirSync(dirname(shot), { recursive: true });
    await page.screenshot({ path: shot });
    if (c.errors.length > 0) await c.fail(c.errors.join('\n'));
    return dialed;
  });
}

try {
  await phone();
  const dialed = await desktop();
  console.log(`RESULT ${JSON.stringify({ user, lines: message, dialed })}`);
} catch (e) {
  console.error(`FAIL ${e.message}`);
  if (e.screen) console.error(`--- the terminal showed:\n${e.screen}\n---`);
  process.exit(1);
}
