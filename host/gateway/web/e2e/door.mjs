// door.mjs: a native door in a real browser. Playwright (playwright-core)
// drives Debian's Chromium, headless: the page dials in, a new user
// signs up, picks door 1 on the Doors menu (the native test door), sees
// it greet them from its drop files, types keys one at a time (keystroke
// mode: each key reaches the door as it is typed), quits it with Q and
// hangs up from the main menu.
//
// Usage: node door.mjs URL USER
//
// On success the last line printed is RESULT {"user":..}; on failure the
// exit status is 1 and the terminal's text is printed.

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, user] = process.argv.slice(2);
if (!url || !user) {
  console.error('usage: node door.mjs URL USER');
  process.exit(2);
}
const STEP = Number(process.env.STEP_TIMEOUT_MS || 15000);
const password = `pw-${Math.random().toString(36).slice(2, 10)}`;

const profile = mkdtempSync(join(tmpdir(), 'm2bbs-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  viewport: { width: 1024, height: 768 },
});
const page = context.pages()[0] || await context.newPage();
const screen = () => page.evaluate(() => (window.m2bbs ? window.m2bbs.text() : document.body.innerText));

// seen waits until the screen, past the mark, holds text; it returns the
// new mark (the screen's length then), so that the next wait looks past it.
let mark = 0;
async function seen(text) {
  const deadline = Date.now() + STEP;
  for (;;) {
    const s = await screen();
    const at = s.indexOf(text, mark);
    if (at >= 0) {
      mark = at + text.length;
      return;
    }
    if (Date.now() > deadline) throw Object.assign(new Error(`no ${JSON.stringify(text)} after ${STEP} ms`), { screen: s });
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function line(text) {
  await page.keyboard.type(text, { delay: 5 });
  await page.keyboard.press('Enter');
}

try {
  await page.goto(url);
  await seen("What's your name?");
  await line(user);
  await seen('password');
  await line(password);
  await seen('again');
  await line(password);
  await seen('(Y/n)');
  await line('y');
  await seen('Quit the BBS.');
  await line('D');
  await seen('Door? ');
  await line('1');
  await seen(`DOOR32.SYS: Hello ${user}, 30 minutes left on node 1.`);
  await seen(`DOOR.SYS: Hello ${user}`);
  await seen('Q quits.');
  await page.keyboard.type('w');
  await seen("key 'w'");
  await page.keyboard.press('Enter');
  await seen("key '\\r'");
  await page.keyboard.type('q');
  await seen('Bye!');
  await seen('Door? ');
  await line('Q');
  await seen('Quit the BBS.');
  await line('Q');
  await seen('see ya later');
  console.log(`RESULT ${JSON.stringify({ user })}`);
} catch (e) {
  console.error(`FAIL ${e.message}`);
  if (e.screen) console.error(`--- the terminal showed:\n${e.screen}\n---`);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
