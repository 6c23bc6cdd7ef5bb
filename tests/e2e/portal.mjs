// Drives the requester's pages in real headless Chromium on a phone-sized
// viewport (Debian's chromium through npm playwright-core). Started by
// tests/integration/browser.rs, which reads the mailed link from the SMTP
// capture sink between the phases. Usage:
//   node portal.mjs form <app-url> <screenshot-dir> <file-to-attach> <mail-address>
//     a member picks a topic, fills the form with a file, sends it; prints "ticket <n>"
//   node portal.mjs reply <app-url> <screenshot-dir> <status-link>
//     the member opens the mailed link and replies there
//   node portal.mjs helper <app-url> <screenshot-dir> <login-path> <ticket>
//     a helper logs in (login link) and sees the reply on the ticket page
//   node portal.mjs report <app-url> <screenshot-dir> <login-path> <tenant>
//     a tenant admin opens the quarter's report (charts) and its wiki text
import { chromium } from 'playwright-core';

const [phase, app, shots, arg, arg2] = process.argv.slice(2);
const fail = (msg) => { console.error(`e2e: ${msg}`); process.exit(1); };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'de-DE' };

try {
  if (phase === 'form') {
    const context = await browser.newContext(phone);
    const page = await context.newPage();
    const outside = [];
    page.on('request', (r) => { if (!r.url().startsWith(app)) outside.push(r.url()); });
    await page.goto(`${app}/anfrage/nw`);
    await page.getByRole('heading', { name: 'Anfrage an Nordrhein-Westfalen' }).waitFor();
    await page.screenshot({ path: `${shots}/20-anfrage-themen-handy.png`, fullPage: true });
    await page.getByRole('link', { name: 'Presseanfrage' }).click();
    await page.getByLabel('Ihre Mailadresse').fill(arg2);
    await page.getByLabel('Ihr Name').fill('Erika Mustermann');
    await page.getByLabel('Betreff').fill('Interview zur Wahl');
    await page.getByLabel('Ihr Anliegen').fill('Guten Tag,\nwir möchten gern ein Interview führen.');
    await page.getByLabel('Redaktion oder Medium').fill('Radio Ruhr');
    await page.locator('#dateien').setInputFiles(arg);
    // Nobody fills a form in under a second; the form knows.
    await page.waitForTimeout(1300);
    await page.screenshot({ path: `${shots}/21-anfrage-formular-handy.png`, fullPage: true });
    await page.getByRole('button', { name: 'Anfrage absenden' }).click();
    await page.getByRole('heading', { name: 'Danke – Ihre Anfrage ist angekommen' }).waitFor();
    const number = (await page.locator('#nummer').textContent()).replace('#', '').trim();
    await page.screenshot({ path: `${shots}/22-anfrage-angekommen-handy.png`, fullPage: true });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    if (width > 390) fail(`the page is wider than the phone: ${width}px`);
    if (outside.length) fail(`requests elsewhere: ${outside.join(', ')}`);
    console.log(`ticket ${number}`);
  } else if (phase === 'reply') {
    const context = await browser.newContext(phone);
    const page = await context.newPage();
    await page.goto(arg);
    await page.getByRole('heading', { name: /Ihre Anfrage #\d+: Interview zur Wahl/ }).waitFor();
    const text = await page.content();
    if (!text.includes('Radio Ruhr')) fail('the form field is not on the status page');
    // Keyboard only: into the reply field, type, tab to the button, Enter.
    await page.locator('#body').focus();
    await page.keyboard.type('Dienstag 10 Uhr passt uns gut.');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    if (focused !== 'antworten') fail(`Tab did not reach the send button (focus on ${focused})`);
    await page.keyboard.press('Enter');
    await page.locator('#hinweis').waitFor();
    await page.screenshot({ path: `${shots}/23-status-antwort-handy.png`, fullPage: true });
    if (!(await page.content()).includes('Dienstag 10 Uhr passt uns gut.')) fail('the reply is not on the status page');
  } else if (phase === 'helper') {
    const context = await browser.newContext({ locale: 'de-DE', viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    await page.goto(app + arg);
    await page.goto(`${app}/ui/tickets/${arg2}`);
    await page.getByRole('heading', { name: new RegExp(`#${arg2} Interview zur Wahl`) }).waitFor();
    const text = await page.content();
    if (!text.includes('Dienstag 10 Uhr passt uns gut.')) fail('the helper does not see the reply');
    if (!text.includes('Radio Ruhr')) fail('the helper does not see the form fields');
    await page.screenshot({ path: `${shots}/24-helfer-sieht-antwort.png`, fullPage: true });
  } else if (phase === 'report') {
    const context = await browser.newContext({ locale: 'de-DE', viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    await page.goto(app + arg);
    await page.click('#berichte');
    await page.getByRole('heading', { name: /^Bericht / }).waitFor();
    if ((await page.locator('svg[role=img]').count()) !== 2) fail('the report has no charts');
    await page.screenshot({ path: `${shots}/25-bericht.png`, fullPage: true });
    const phoneContext = await browser.newContext({ ...phone, storageState: await context.storageState() });
    const small = await phoneContext.newPage();
    await small.goto(`${app}/ui/berichte/${arg2}`);
    await small.screenshot({ path: `${shots}/26-bericht-handy.png`, fullPage: true });
  } else {
    fail(`unknown phase ${phase}`);
  }
} catch (e) {
  fail(e.stack || String(e));
} finally {
  await browser.close();
}
