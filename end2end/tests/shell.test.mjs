// The foundation's flow: sign in as the first admin, reach the empty cases page, reload it,
// see the About page, administer users and custom fields, sign out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, ADMIN, PASSWORD, launch, shot } from './helpers.mjs';

test('login, cases, reload, about, logout', async () => {
  const { browser, page, errors } = await launch();
  try {
    await page.goto(`${BASE}/cases`);
    await page.waitForURL(/\/login\?next=\/cases/);
    await page.waitForSelector('#login');
    await shot(page, '01-login');

    await page.fill('#login', 'admin@waggle.local');
    await page.fill('#password', 'not-the-password');
    await page.click('button[type=submit]');
    await page.waitForSelector('.error-note');
    assert.match(await page.textContent('.error-note'), /wrong login or password/);

    await page.fill('#login', ADMIN);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${BASE}/cases`);
    await page.waitForSelector('text=No open cases');
    assert.equal(await page.textContent('h1'), 'Cases');
    await page.waitForSelector('.footer .connector');
    await shot(page, '02-cases-empty');

    await page.reload();
    await page.waitForSelector('text=No open cases');
    assert.equal(new URL(page.url()).pathname, '/cases');
    await shot(page, '03-cases-after-reload');

    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.className), 'search-box');

    await page.goto(`${BASE}/about`);
    await page.waitForSelector('text=About Waggle');
    await page.waitForSelector('text=No server configured');
    await shot(page, '04-about');

    await page.click('button.theme-toggle');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await shot(page, '05-about-dark');

    // Administration: a user created, locked after the confirmation, unlocked; a custom field
    // added and deleted; a refused creation shown where the user acted.
    await page.goto(`${BASE}/admin/users`);
    await page.waitForSelector('table.grid >> text=admin@waggle.local');
    await page.fill('input[placeholder^="Login"]', 'e2e-analyst@example.org');
    await page.fill('input[placeholder="Name"] >> nth=-1', 'E2E Analyst');
    await page.click('button:text-is("Create user")');
    const row = page.locator('tr', { hasText: 'e2e-analyst@example.org' });
    await row.waitFor();
    assert.equal(await page.inputValue('input[placeholder^="Login"]'), '', 'the form is cleared');
    await row.locator('button:text-is("Lock")').click();
    await row.locator('button:text-is("Unlock")').waitFor();
    assert.match(await row.textContent(), /Locked/);
    await shot(page, '07-admin-users');
    await row.locator('button:text-is("Unlock")').click();
    await row.locator('button:text-is("Lock")').waitFor();
    await page.fill('input[placeholder^="Login"]', 'e2e-second@example.org');
    await page.fill('input[placeholder="Name"] >> nth=-1', 'Second');
    await page.fill('input[placeholder^="Password"]', 'short');
    await page.click('button:text-is("Create user")');
    const users = page.locator('section.card', { has: page.locator('h2', { hasText: 'Users' }) });
    assert.match(await users.locator('.error-note').textContent(), /at least/);
    assert.equal(await page.inputValue('input[placeholder^="Login"]'), 'e2e-second@example.org', 'a refused form keeps what was typed');

    await page.goto(`${BASE}/admin/custom-fields`);
    await page.waitForSelector('text=No custom fields');
    await page.fill('input[placeholder="Name"]', 'Business unit');
    await page.click('button:text-is("Add field")');
    const field = page.locator('tr', { hasText: 'Business unit' });
    await field.waitFor();
    await shot(page, '08-admin-custom-fields');
    await field.locator('button:text-is("Delete")').click();
    await page.waitForSelector('text=No custom fields');

    await page.click('.usermenu-button');
    await page.click('text=Log out');
    await page.waitForURL(/\/login/);
    await shot(page, '06-logged-out');

    await page.goto(`${BASE}/cases`);
    await page.waitForURL(/\/login/);
    assert.deepEqual(errors, [], 'no script errors');
  } finally {
    await browser.close();
  }
});
