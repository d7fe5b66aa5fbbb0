// caller.mjs: one caller on the m2bbs page in headless Chromium, for the
// browser tests that follow the board by what its terminal shows
// (door.mjs, files.mjs).
//
//   const c = await openCaller(url);
//   await c.seen("What's your name?"); await c.line('ann');
//   await c.signUp('ann');   // name, password twice, the charset question
//   await c.close();

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const STEP = Number(process.env.STEP_TIMEOUT_MS || 15000);

// openCaller starts Chromium on a fresh profile and opens url.
export async function openCaller(url) {
  const profile = mkdtempSync(join(tmpdir(), 'm2bbs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    viewport: { width: 1024, height: 768 },
  });
  const page = context.pages()[0] || await context.newPage();
  const screen = () => page.evaluate(() => (window.m2bbs ? window.m2bbs.text() : document.body.innerText));
  let mark = 0;
  const c = {
    STEP,
    context,
    page,
    screen,
    // seen waits until the terminal, past the last text seen, holds text.
    async seen(text) {
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
    },
    // line types text and Enter.
    async line(text) {
      await page.keyboard.type(text, { delay: 5 });
      await page.keyboard.press('Enter');
    },
    // signUp registers user with a fresh password, up to the main menu.
    async signUp(user) {
      const password = `pw-${Math.random().toString(36).slice(2, 10)}`;
      await c.seen("What's your name?");
      await c.line(user);
      await c.seen('password');
      await c.line(password);
      await c.seen('again');
      await c.line(password);
      await c.seen('(Y/n)');
      await c.line('y');
      await c.seen('Quit the BBS.');
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
  await page.goto(url);
  return c;
}

// report prints a failure and what the terminal or page showed, and sets
// the exit status.
export function report(e) {
  console.error(`FAIL ${e.message}`);
  if (e.screen) console.error(`--- the terminal showed:\n${e.screen}\n---`);
  process.exitCode = 1;
}
