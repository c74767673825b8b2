// The live activity panel: the organisation's flow beside every page and the case's own flow on
// a case page, kept current without a reload while a second session (another user, another
// browser context) makes changes; other organisations' changes never show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ADMIN, PASSWORD, api, launch, shot, login, seedColleagueAndOtherTenant } from './helpers.mjs';

const panel = '.activity-panel';
const line = (text) => `${panel} .activity-item:has-text("${text}")`;

test('activity panel: live organisation and case flows, another session changing things', async () => {
  await seedColleagueAndOtherTenant();
  let r;
  const seed = await api('/api/case', { body: { title: 'Seed case', description: 'first', severity: 2 } });
  assert.equal(seed.status, 201, JSON.stringify(seed.json));

  const { browser, page, errors } = await launch();
  const second = await browser.newContext({ viewport: { width: 1600, height: 900 } });
  const other = await second.newPage();
  try {
    // The admin opens the panel (closed by default below 1560 px wide): the latest changes.
    await login(page);
    await page.waitForURL(/\/cases/);
    assert.equal(await page.locator(panel).count(), 0);
    await page.click('.activity-toggle');
    await page.waitForSelector(line('Seed case'));
    assert.match(await page.textContent(`${panel} h2`), /Live activity/);

    // Ana, in another browser context, creates a case in the UI: it appears on top of the
    // admin's panel without a reload, with who made it and the template-less case's title.
    await login(other, 'ana@soc', 'analyst-password-1');
    await other.waitForURL(/\/cases/);
    await other.waitForSelector(line('Seed case')); // open by default on a wide screen
    await other.click('text=New case');
    await other.waitForSelector('.modal');
    await other.fill('#new-case-title', 'Ransomware on FS01');
    await other.fill('#new-case-description', 'Shares encrypted overnight.');
    await other.click('.modal button[type=submit]');
    await other.waitForURL(`${BASE}/cases/2`);
    await page.waitForSelector(line('Ransomware on FS01'), { timeout: 30_000 });
    const first = page.locator(`${panel} .activity-item`).first();
    assert.match(await first.textContent(), /Ransomware on FS01/);
    assert.match(await first.locator('.who').textContent(), /ana@soc/);
    assert.match(await first.textContent(), /added case/);
    await shot(page, 'activity-01-organisation');

    // Another organisation's change never reaches this panel.
    r = await api('/api/case', { auth: ['eve@other', 'other-password-1'], body: { title: 'Other tenant secret', description: 'x', severity: 1 } });
    assert.equal(r.status, 201, JSON.stringify(r.json));

    // Following a line opens the case (client-side) and narrows the panel to that case.
    await page.click(`${panel} a.activity-label:has-text("Seed case")`);
    await page.waitForURL(`${BASE}/cases/1`);
    await page.waitForFunction(() => /Case #1 activity/.test(document.querySelector('.activity-panel h2')?.textContent ?? ''));
    await page.waitForSelector(line('Seed case'));
    assert.equal(await page.locator(line('Ransomware on FS01')).count(), 0, 'another case stays out of a case flow');

    // Ana adds observables to both cases and renames the seed case (her session's cookie):
    // only the seed case's changes appear, live.
    const ransomware = (await (await other.request.get(`${BASE}/api/case/2`)).json()).id;
    let o = await other.request.post(`${BASE}/api/case/${ransomware}/artifact`, { data: { dataType: 'domain', data: 'other.example', message: 'x' } });
    assert.equal(o.status(), 201, await o.text());
    o = await other.request.post(`${BASE}/api/case/${seed.json.id}/artifact`, { data: { dataType: 'domain', data: ['evil.example', 'evil2.example'], message: 'C2' } });
    assert.ok([201, 207].includes(o.status()), await o.text());
    await page.waitForSelector(line('evil'), { timeout: 30_000 });
    const evil = await page.locator(line('evil')).first().textContent();
    assert.match(evil, /\+ 1 observable added/);
    assert.doesNotMatch(evil, /in #1/, 'a case flow does not repeat the case on every line');
    const p = await other.request.patch(`${BASE}/api/case/${seed.json.id}`, { data: { title: 'Seed case (C2 confirmed)' } });
    assert.equal(p.status(), 200, await p.text());
    await page.waitForSelector(line('updated case Seed case (C2 confirmed)'), { timeout: 30_000 });
    assert.equal(await page.locator(line('other.example')).count(), 0);
    // The case page itself follows another user's changes too.
    await page.waitForFunction(() => /C2 confirmed/.test(document.querySelector('.case-title')?.textContent ?? ''));
    await page.waitForSelector('.tabs >> text=Observables (2)');
    await shot(page, 'activity-02-case');

    // Back to the list: the organisation's flow again, with every change but the other
    // organisation's.
    await page.click('.mainnav >> text=Cases');
    await page.waitForFunction(() => /Live activity/.test(document.querySelector('.activity-panel h2')?.textContent ?? ''));
    await page.waitForSelector(line('other.example'));
    await page.waitForSelector(line('Ransomware on FS01'));
    assert.equal(await page.locator(line('Other tenant secret')).count(), 0);

    // The panel closes, and stays closed after a reload (remembered by the browser).
    await page.click('.activity-toggle');
    await page.waitForSelector(panel, { state: 'detached' });
    await page.reload();
    await page.waitForSelector('.mainnav');
    await page.waitForTimeout(500);
    assert.equal(await page.locator(panel).count(), 0);
    await page.click('.activity-toggle');
    await page.waitForSelector(line('Ransomware on FS01'));
    await page.evaluate(() => document.documentElement.setAttribute('data-theme', 'dark'));
    await shot(page, 'activity-03-dark');
    assert.deepEqual(errors, []);
  } finally {
    await second.close();
    await browser.close();
  }
});
