// chat.mjs: one browser caller of the m2bbs page, typed and read by a
// Go test, for tests where several callers take turns (a chat room).
// Playwright (playwright-core) drives Debian's Chromium, headless.
//
// Usage: node chat.mjs URL
//
// It opens the page at URL and waits for CONNECT, then reads one command
// a line on stdin, a JSON object, and answers each with one JSON line on
// stdout, {"ok": true|false, "screen": the terminal's text, "error": ...}:
//
//   {"op": "type", "text": "hello\r"}  types text; "\r" presses Enter and
//                                      waits for the BBS's next prompt
//   {"op": "wait", "text": "Chat> "}   waits until the screen shows text
//   {"op": "screen"}                   the screen as it is
//
// It ends when stdin closes (the page hangs up with the browser).
// Environment: CHROMIUM (default /usr/bin/chromium), STEP_TIMEOUT_MS
// (default 15000): how long a wait may take.

import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';

const [url] = process.argv.slice(2);
if (!url) {
  console.error('usage: node chat.mjs URL');
  process.exit(2);
}
const STEP = Number(process.env.STEP_TIMEOUT_MS || 15000);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ARGS });
const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
const errors = [];
page.on('pageerror', (err) => errors.push(err.message));

const screen = () => page.evaluate(() => (window.m2bbs ? window.m2bbs.text() : ''));

// until polls the screen until it includes text, or STEP passes.
async function until(text) {
  const deadline = Date.now() + STEP;
  for (;;) {
    const s = await screen();
    if (s.includes(text)) return s;
    if (Date.now() > deadline) throw new Error(`not on the screen after ${STEP} ms: ${JSON.stringify(text)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// prompts is how many prompts the page has had on this call.
const prompts = () => page.evaluate(() => (window.m2bbs ? window.m2bbs.prompts : 0));

// typeText types text into the terminal, Enter for each "\r". After an
// Enter it waits for the BBS's next prompt: the page drops keys typed
// while no prompt waits, as a terminal that edits lines locally does.
async function typeText(text) {
  const parts = text.split('\r');
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] !== '') await page.keyboard.type(parts[i]);
    if (i === parts.length - 1) break;
    const before = await prompts();
    await page.keyboard.press('Enter');
    const deadline = Date.now() + STEP;
    while (await prompts() <= before) {
      if (Date.now() > deadline) throw new Error(`no prompt after Enter for ${STEP} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

const reply = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

try {
  await page.goto(url);
  await until('CONNECT');
  await page.locator('.xterm-helper-textarea').focus();
  reply({ ok: true, screen: await screen() });
} catch (e) {
  reply({ ok: false, error: e.message, screen: '' });
  await browser.close();
  process.exit(1);
}

for await (const line of createInterface({ input: process.stdin })) {
  let cmd;
  try {
    cmd = JSON.parse(line);
    if (cmd.op === 'type') await typeText(cmd.text);
    else if (cmd.op === 'wait') await until(cmd.text);
    else if (cmd.op !== 'screen') throw new Error(`no such op: ${cmd.op}`);
    if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
    reply({ ok: true, screen: await screen() });
  } catch (e) {
    reply({ ok: false, error: e.message, screen: await screen().catch(() => '') });
  }
}
await browser.close();
