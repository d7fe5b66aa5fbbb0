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

import { openCaller, report } from './caller.mjs';

const [url, user, file] = process.argv.slice(2);
if (!url || !user || !file) {
  console.error('usage: node files.mjs URL USER FILE');
  process.exit(2);
}

const c = await openCaller(url);
try {
  await c.signUp(user);
  await c.line('F');
  await c.seen('[U]pload');
  await c.line('U');
  await c.seen('Upload to which area?');
  await c.line('1');
  await c.seen('/files/u/');
  const link = c.page.locator('#links a', { hasText: 'Upload a file' });
  await link.waitFor({ timeout: c.STEP });
  const href = await link.getAttribute('href');
  if (!href.startsWith('/files/u/')) throw new Error(`the link above the terminal is ${href}`);

  const up = await c.context.newPage();
  await up.goto(new URL(href, url).toString());
  await up.setInputFiles('#file', file);
  await up.fill('#desc', 'sent from a browser');
  await up.click('#send');
  const status = up.locator('#status');
  await status.filter({ hasText: /Received|Refused/ }).waitFor({ timeout: c.STEP });
  const text = await status.innerText();
  if (!text.startsWith('Received')) throw Object.assign(new Error(`the upload page says: ${text}`), { screen: await up.content() });
  console.log(`RESULT ${JSON.stringify({ user, status: text })}`);
} catch (e) {
  report(e);
} finally {
  await c.close();
}
