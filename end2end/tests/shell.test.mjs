// The foundation's flow: sign in as the first admin, reach the empty cases page, reload it,
// see the About page, sign out.
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

    await page.click('button.icon-button');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await shot(page, '05-about-dark');

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
