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

import { openCaller, report } from './caller.mjs';

const [url, user] = process.argv.slice(2);
if (!url || !user) {
  console.error('usage: node door.mjs URL USER');
  process.exit(2);
}

const c = await openCaller(url);
const { page, seen, line } = c;
try {
  await c.signUp(user);
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
  report(e);
} finally {
  await c.close();
}
