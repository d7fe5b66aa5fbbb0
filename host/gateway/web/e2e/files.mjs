// files.mjs: the board's file links in a real browser. Playwright
// (playwright-core) drives Debian's Chromium, headless: the page dials
// in, a new user signs up, asks the Files menu for an upload link, finds
// it above the terminal, opens it, picks a file and uploads it with the
// upload page (its script sends the file in pieces), and reads the
// board's answer.
//
// Usage: node files.mjs URL USER FILE
//
// On success the last line printed is RESULT {"user":..,"status":..};
// on failure the exit status is 1 and what the pages showed is printed.

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, user, file] = process.argv.slice(2);
if (!url || !user || !file) {
  console.error('usage: node files.mjs URL USER FILE');
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

// seen waits until the terminal, past the last text seen, holds text.
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
  await seen('File areas.');
  await line('F');
  await seen('[U]pload');
  await line('U');
  await seen('Upload to which area?');
  await line('1');
  await seen('/files/u/');
  const link = page.locator('#links a', { hasText: 'Upload a file' });
  await link.waitFor({ timeout: STEP });
  const href = await link.getAttribute('href');
  if (!href.startsWith('/files/u/')) throw new Error(`the link above the terminal is ${href}`);

  const up = await context.newPage();
  await up.goto(new URL(href, url).toString());
  await up.setInputFiles('#file', file);
  await up.fill('#desc', 'sent from a browser');
  await up.click('#send');
  const status = up.locator('#status');
  await status.filter({ hasText: /Received|Refused/ }).waitFor({ timeout: STEP });
  const text = await status.innerText();
  if (!text.startsWith('Received')) throw Object.assign(new Error(`the upload page says: ${text}`), { screen: await up.content() });
  console.log(`RESULT ${JSON.stringify({ user, status: text })}`);
} catch (e) {
  console.error(`FAIL ${e.message}`);
  if (e.screen) console.error(`--- the page showed:\n${e.screen}\n---`);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
