// Users in several organisations, in Chromium: the platform administrator (in the admin
// organisation) creates an organisation, puts an analyst of soc in it as read-only from the
// users table, and the analyst, in another browser context, switches between her two
// organisations with the top bar's switcher; the organisation is renamed and locked (she is
// moved out of it), unlocked; then she is taken out of it again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ADMIN, PASSWORD, launch, shot, login } from './helpers.mjs';

test('organisations: memberships managed from the users table, switched in the top bar', async () => {
  const auth = 'Basic ' + Buffer.from(`${ADMIN}:${PASSWORD}`).toString('base64');
  const r = await fetch(`${BASE}/api/user`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth },
    body: JSON.stringify({ login: 'ana@soc', name: 'Ana', password: 'analyst-password-1', profile: 'analyst' }) });
  assert.equal(r.status, 201, await r.text());

  const { browser, page, errors } = await launch();
  const second = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const ana = await second.newPage();
  try {
    await login(page);
    await page.waitForURL(/\/cases/);
    // The platform administration happens in the admin organisation.
    // (Switching reloads the page: everything on it belonged to the other organisation.)
    await Promise.all([page.waitForEvent('load'), page.selectOption('select.org-switch', { label: 'admin' })]);
    await page.waitForSelector('select.org-switch');
    await page.goto(`${BASE}/admin`);
    await page.fill('input[placeholder="Name"]', 'acme');
    await page.fill('input[placeholder="Description"]', 'A customer');
    await page.click('button:has-text("Create organisation")');
    await page.waitForSelector('td >> text=acme');
    await page.reload();
    const row = page.locator('tr[data-login="ana@soc"]');
    await row.locator('select[name=org]').selectOption('acme');
    await row.locator('select[name=profile]').selectOption('read-only');
    await row.locator('.add-membership button').click();
    await page.waitForSelector('tr[data-login="ana@soc"] .chip.membership[data-org=acme] >> text=acme (read-only)');
    await shot(page, 'orgs-01-memberships');

    // Ana has two organisations: the switcher takes her to acme, where she reads only.
    await login(ana, 'ana@soc', 'analyst-password-1');
    await ana.waitForURL(/\/cases/);
    await ana.waitForSelector('select.org-switch');
    await Promise.all([ana.waitForEvent('load'), ana.selectOption('select.org-switch', { label: 'acme' })]);
    await ana.waitForFunction(() => document.querySelector('select.org-switch')?.selectedOptions[0]?.textContent === 'acme');
    const me = await ana.evaluate(async () => (await fetch('/api/user/current')).json());
    assert.equal(me.organisation, 'acme');
    assert.equal(me.profile, 'read-only');

    // acme is renamed (the browser's prompt) and locked: Ana's next page moves her to soc.
    page.removeAllListeners('dialog');
    page.on('dialog', (d) => (d.type() === 'prompt' ? d.accept('acme-corp') : d.accept()));
    await page.click('tr[data-org=acme] .rename-org');
    await page.waitForSelector('tr[data-org=acme-corp]');
    await page.click('tr[data-org=acme-corp] .lock-org');
    await page.waitForSelector('tr[data-org=acme-corp] >> text=Locked');
    await shot(page, 'orgs-02-locked');
    await ana.reload();
    await ana.waitForFunction(() => document.querySelector('select.org-switch')?.selectedOptions[0]?.textContent === 'soc');
    assert.ok(await ana.locator('select.org-switch option', { hasText: 'acme-corp' }).count() === 1, 'the new name in her switcher');
    await page.click('tr[data-org=acme-corp] .lock-org');
    await page.waitForSelector('tr[data-org=acme-corp] >> text=Active');

    // A custom profile from permission checkboxes: made, changed (kept after a reload), offered
    // in the users table, deleted.
    page.removeAllListeners('dialog');
    page.on('dialog', (d) => d.accept());
    await page.goto(`${BASE}/admin/profiles`);
    await page.waitForSelector('.profiles-builtin >> text=analyst');
    await page.fill('input[name=profile-name]', 'triage');
    await page.check('.new-profile input[name=manageAlert]');
    await page.click('button:has-text("Create profile")');
    const triage = page.locator('tr[data-profile=triage]');
    await triage.waitFor();
    assert.equal(await triage.locator('input[name=manageAlert]').isChecked(), true);
    assert.equal(await triage.locator('input[name=manageCase]').isChecked(), false);
    await triage.locator('input[name=manageCase]').check();
    await triage.locator('button.save-profile').click();
    await page.waitForTimeout(300);
    await page.reload();
    await page.locator('tr[data-profile=triage] input[name=manageCase]').waitFor();
    assert.equal(await page.locator('tr[data-profile=triage] input[name=manageCase]').isChecked(), true);
    await shot(page, 'orgs-03-profiles');
    await page.goto(`${BASE}/admin`);
    await page.waitForSelector('tr[data-login="ana@soc"] select[name=profile] option[value=triage]', { state: 'attached' });
    await page.goto(`${BASE}/admin/profiles`);
    await page.click('tr[data-profile=triage] button.delete-profile');
    await page.waitForSelector('tr[data-profile=triage]', { state: 'detached' });

    // Taken out of acme-corp: the chip goes; her next page is soc's only.
    await page.goto(`${BASE}/admin`);
    await page.click('tr[data-login="ana@soc"] .chip.membership[data-org=acme-corp] .chip-remove');
    await page.waitForSelector('tr[data-login="ana@soc"] .chip.membership[data-org=acme-corp]', { state: 'detached' });
    await ana.reload();
    await ana.waitForSelector('.org-name >> text=soc');
    assert.deepEqual(errors, []);
  } finally {
    await second.close();
    await browser.close();
  }
});
