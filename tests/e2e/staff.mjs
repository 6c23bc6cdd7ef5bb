// Drives the staff pages in real headless Chromium (Debian's chromium,
// through npm playwright-core), logging in at the real OpenID Connect
// provider. Started by tests/integration/browser.rs, which prepares the app,
// the provider and the tickets. Usage:
//   node staff.mjs <phase> <app-url> <screenshot-dir>
// phase "main": bob (federal officer) hands a Bund triage ticket to BY from
// the triage list; alice (BY helper) logs in, sees BY and not HE, opens the
// hostile mail (must be inert), takes it, raises its priority, replies with
// a canned response, writes a note, resolves and reopens it, starts the exit
// process and ticks off its first step, and finds it
// under her tickets; dave sees nothing.
// phase "lists": alice filters BY's member queue to unassigned high-priority
// tickets, takes three in one bulk action and answers one by keyboard only.
// phase "removed": alice logs in after losing her group: no queues.
import { chromium } from 'playwright-core';

const [phase, app, shots] = process.argv.slice(2);
const fail = (msg) => { console.error(`e2e: ${msg}`); process.exit(1); };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});

async function login(user) {
  const context = await browser.newContext({ locale: 'de-DE', viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const outside = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') outside.push(r.url());
  });
  await page.goto(app + '/');
  await page.click('#anmelden');
  await page.fill('#username', user);
  await page.fill('#password', 'secret');
  await page.click('#kc-login');
  await page.waitForURL(app + '/');
  return { context, page, outside };
}

try {
  if (phase === 'main') {
    // bob (federal officer) hands the Bund's triage ticket to BY from the triage list.
    const bob = await login('bob');
    await bob.page.click('#triage');
    await bob.page.getByRole('heading', { name: 'Triage des Bundes' }).waitFor();
    const row = bob.page.locator('tr', { hasText: 'Frage zur Mitgliedschaft' });
    await row.locator('select').selectOption('by');
    await bob.page.screenshot({ path: `${shots}/00-triage-uebergeben.png`, fullPage: true });
    await row.locator('button').click();
    // The list comes back without it.
    await bob.page.locator('tr', { hasText: 'Frage zur Mitgliedschaft' }).waitFor({ state: 'detached' });
    await bob.context.close();

    const { page, outside } = await login('alice');
    await page.getByRole('heading', { name: 'Meine Queues' }).waitFor();
    const home = await page.content();
    if (!home.includes('tenant=by')) fail('alice sees no BY queue');
    if (home.includes('tenant=he')) fail('alice sees an HE queue');
    await page.screenshot({ path: `${shots}/01-meine-queues.png`, fullPage: true });

    // The ticket bob handed over waits in BY's default queue.
    await page.click('a[href="/ui/tickets?tenant=by&queue=allgemein"]');
    await page.getByRole('link', { name: 'Frage zur Mitgliedschaft' }).waitFor();
    await page.goto(app + '/');
    await page.click('a[href="/ui/tickets?tenant=by&queue=mitglieder"]');
    await page.getByRole('heading', { name: /Offene Tickets/ }).waitFor();
    if ((await page.content()).includes('Hessen intern')) fail('an HE ticket in a BY list');
    await page.screenshot({ path: `${shots}/02-queue.png`, fullPage: true });

    await page.getByRole('link', { name: 'Rechnung' }).click();
    await page.waitForURL(/\/ui\/tickets\/\d+$/);
    const url = page.url();
    await page.waitForTimeout(300);
    if (page.url() !== url) fail('the mail script navigated away');
    const dangerous = await page.evaluate(() => ({
      // Logbuch's own keyboard script is the only one allowed.
      scripts: [...document.querySelectorAll('script')].filter((s) => !s.textContent.startsWith('// Logbuch keyboard shortcuts')).length,
      media: document.querySelectorAll('.mail-html img, .mail-html iframe, .mail-html object').length,
      handlers: [...document.querySelectorAll('.mail-html *')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
      jsLinks: [...document.querySelectorAll('a')].filter((a) => a.href.startsWith('javascript:')).length,
      text: document.querySelector('.mail-html')?.innerText ?? '',
    }));
    if (dangerous.scripts || dangerous.media || dangerous.handlers || dangerous.jsLinks) fail(`hostile HTML survived: ${JSON.stringify(dangerous)}`);
    if (!dangerous.text.includes('sofort')) fail('the mail text is gone');
    if (outside.length) fail(`requests left the site: ${outside.join(', ')}`);
    await page.screenshot({ path: `${shots}/03-ticket.png`, fullPage: true });

    // Keyboard: the take button is reachable and works with Enter.
    await page.focus('#uebernehmen');
    await page.keyboard.press('Enter');
    // The form posts and the page comes back (same address): wait for its new content.
    await page.locator('#besitzer', { hasText: 'Alice' }).waitFor({ timeout: 10000 });
    // Priority, a reply from a canned response, and an internal note.
    await page.selectOption('#neue-prioritaet', 'high');
    await page.click('#aendern');
    await page.locator('#prioritaet', { hasText: 'hoch' }).waitFor({ timeout: 10000 });
    await page.selectOption('#vorlage', 'canned.austritt-bestaetigung');
    await page.click('#einsetzen');
    await page.waitForFunction(() => document.querySelector('#antwort-text')?.value.includes('Austrittserklärung'));
    await page.fill('#antwort-text', (await page.inputValue('#antwort-text')) + '\nP.S. Danke!');
    await page.click('#senden');
    await page.locator('article', { hasText: 'P.S. Danke!' }).waitFor({ timeout: 10000 });
    await page.click('#notiz summary');
    await page.fill('#notiz-text', 'Rückruf morgen, Alice');
    await page.click('#notiz-speichern');
    await page.locator('article.note', { hasText: 'Rückruf morgen' }).waitFor({ timeout: 10000 });
    await page.screenshot({ path: `${shots}/03b-ticket-bearbeitet.png`, fullPage: true });

    await page.click('#erledigt');
    await page.locator('#status', { hasText: 'erledigt' }).waitFor({ timeout: 10000 });
    if (page.url() !== url) fail(`left the ticket: ${page.url()}`);
    await page.screenshot({ path: `${shots}/04-erledigt.png`, fullPage: true });
    await page.click('#wieder-oeffnen');
    await page.locator('#status', { hasText: 'in Arbeit' }).waitFor({ timeout: 10000 });

    // A process: the exit by mail. Starting it shows its steps; the first sends the
    // confirmation request, then the ticket waits for the requester's answer.
    await page.selectOption('#ablauf', 'austritt');
    await page.click('#ablauf-starten');
    await page.locator('#ablaeufe h3', { hasText: 'Austritt per Mail' }).waitFor({ timeout: 10000 });
    await page.locator('#ablaeufe li.step-current button').click();
    await page.locator('#ablaeufe', { hasText: 'Wartet auf die Antwort' }).waitFor({ timeout: 10000 });
    if ((await page.locator('#ablaeufe li.step-done').count()) !== 1) fail('the first step is not ticked off');
    await page.screenshot({ path: `${shots}/09-ablauf.png`, fullPage: true });

    // My tickets: the one she took.
    await page.click('#meine');
    await page.getByRole('link', { name: 'Rechnung' }).waitFor();
    await page.screenshot({ path: `${shots}/08-meine-tickets.png`, fullPage: true });

    // Search finds the resolved ticket.
    await page.click('a[href="/ui/search"]');
    await page.fill('#q', 'Rechnung');
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Rechnung' }).waitFor();
    await page.screenshot({ path: `${shots}/07-suche.png`, fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(app + '/');
    await page.screenshot({ path: `${shots}/05-telefon.png`, fullPage: true });
    await page.goto(url);
    await page.screenshot({ path: `${shots}/05b-telefon-ticket.png`, fullPage: true });

    const dave = await login('dave');
    await dave.page.locator('#keine-queues').waitFor();
    await dave.page.screenshot({ path: `${shots}/06-ohne-rolle.png`, fullPage: true });
  } else if (phase === 'lists') {
    // alice narrows BY's member queue to unassigned high-priority tickets, takes
    // three in one action, then answers one with the keyboard only.
    const { page } = await login('alice');
    await page.goto(app + '/ui/tickets?tenant=by&queue=mitglieder');
    await page.selectOption('#f-besitz', 'niemand');
    await page.selectOption('#f-prioritaet', 'hoch');
    await page.click('#filtern');
    await page.waitForURL(/besitz=niemand/);
    const picked = ['Adresse ändern', 'Beitrag zu hoch', 'SEPA-Mandat'];
    for (const subject of picked) {
      await page.locator('tr', { hasText: subject }).locator('input[type=checkbox]').check();
    }
    if ((await page.content()).includes('Newsletter')) fail('a low-priority ticket in the filtered list');
    await page.screenshot({ path: `${shots}/10-liste-gefiltert.png`, fullPage: true });
    await page.selectOption('#aktion', 'take');
    await page.click('#sammel-ausfuehren');
    await page.locator('#sammel-ergebnis', { hasText: '3 erledigt' }).waitFor({ timeout: 10000 });
    await page.screenshot({ path: `${shots}/11-sammelaktion.png`, fullPage: true });

    // Keyboard only: my tickets, j to the first, Enter, r to reply, type, Ctrl+Enter.
    await page.goto(app + '/ui/tickets?besitz=ich&sortierung=alt');
    await page.keyboard.press('j');
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-ticket'));
    if (!focused) fail('j did not move to a ticket');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/ui\/tickets\/\d+$/);
    await page.keyboard.press('r');
    const inReply = await page.evaluate(() => document.activeElement?.id);
    if (inReply !== 'antwort-text') fail(`r focused ${inReply}`);
    await page.keyboard.type('Guten Tag, erledigen wir gern. Viele Grüße, Alice');
    await page.keyboard.press('Control+Enter');
    await page.locator('article', { hasText: 'erledigen wir gern' }).waitFor({ timeout: 10000 });
    await page.screenshot({ path: `${shots}/12-ticket-tastatur.png`, fullPage: true });
    // j / k on a ticket: the next (or previous) one of its queue.
    const here = page.url();
    await page.keyboard.press((await page.locator('#naechstes').count()) ? 'j' : 'k');
    await page.waitForURL((u) => u.toString() !== here, { timeout: 10000 });
    await page.goto(app + '/');
    await page.screenshot({ path: `${shots}/13-start.png`, fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(app + '/ui/tickets?tenant=by&queue=mitglieder');
    await page.screenshot({ path: `${shots}/14-liste-handy.png`, fullPage: true });
    await page.goto(app + '/');
    await page.screenshot({ path: `${shots}/15-start-handy.png`, fullPage: true });
  } else if (phase === 'removed') {
    const { page } = await login('alice');
    await page.locator('#keine-queues').waitFor();
  } else {
    fail(`unknown phase ${phase}`);
  }
} catch (e) {
  fail(e.stack || String(e));
} finally {
  await browser.close();
}
console.log(`e2e ${phase}: ok`);
