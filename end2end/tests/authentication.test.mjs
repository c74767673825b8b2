// Directory sign-in in Chromium: a real OpenLDAP slapd started here from the Rust tests' files
// (server/tests/slapd/slapd.conf and directory.ldif), a Waggle whose configuration file has an
// [ldap] table with a group mapping; the administrator sees the sign-in settings, changes the
// directory's from the page (no restart) and tests the
// directory connection from Admin > Authentication; a directory user signs in on the login page
// and gets the account the mapping gives; a wrong password is refused in place. The first
// administrator, started without WAGGLE_ADMIN_PASSWORD, changes the random password first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ADMIN, PASSWORD, launch, shot, login, stopProcess } from './helpers.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const PORT = process.env.E2E_TLS_PORT ?? '19001';
const BASE = `http://127.0.0.1:${PORT}`;

const freePort = () => new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, check) {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`${what}: timed out`);
}

test('authentication: directory settings, connection test, a directory user signs in', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'waggle-ldap-'));
  const slapdDir = path.join(work, 'slapd');
  mkdirSync(path.join(slapdDir, 'db'), { recursive: true });
  // The Rust harness's configuration, without its LDAPS certificates (plain LDAP here).
  const conf = readFileSync(path.join(ROOT, 'server/tests/slapd/slapd.conf'), 'utf8')
    .replaceAll('{dir}', slapdDir).replace('{allow}', '').replace(/^TLS.*$/gm, '');
  writeFileSync(path.join(slapdDir, 'slapd.conf'), conf);
  const ldapPort = await freePort();
  const ldapUrl = `ldap://127.0.0.1:${ldapPort}`;
  const slapd = spawn('/usr/sbin/slapd', ['-f', path.join(slapdDir, 'slapd.conf'), '-h', `${ldapUrl}/`, '-d', '0'], { stdio: 'ignore' });
  let waggle;
  const { browser, page, errors } = await launch();
  try {
    await until('slapd', () => spawnSync('ldapsearch', ['-x', '-H', ldapUrl, '-b', '', '-s', 'base'], { stdio: 'ignore' }).status === 0);
    const added = spawnSync('ldapadd', ['-x', '-H', ldapUrl, '-D', 'cn=admin,dc=example,dc=org', '-w', 'admin-secret'],
      { input: readFileSync(path.join(ROOT, 'server/tests/slapd/directory.ldif')) });
    assert.equal(added.status, 0, String(added.stderr));

    const config = path.join(work, 'waggle.toml');
    writeFileSync(config, `
[ldap]
urls = ["ldap://127.0.0.1:1", "${ldapUrl}"]
bind_dn = "cn=svc-waggle,ou=services,dc=example,dc=org"
bind_password = "svc-secret"
base_dn = "dc=example,dc=org"
user_filter = "(&(objectClass=inetOrgPerson)(uid={login}))"
group_attribute = "memberOf"
create_users = true

[[ldap.groups]]
group = "cn=soc-analysts,ou=groups,dc=example,dc=org"
organisation = "soc"
profile = "analyst"
`);
    // No WAGGLE_ADMIN_PASSWORD: the first administrator's random password is in a file.
    const env = { ...process.env };
    delete env.WAGGLE_ADMIN_PASSWORD;
    waggle = spawn(process.env.WAGGLE_BIN, ['serve', '--config', config, '--listen', `127.0.0.1:${PORT}`, '--data', path.join(work, 'data'), '--log', 'warn'],
      { env, stdio: 'ignore' });
    await until('waggle', async () => { try { return (await fetch(`${BASE}/api/health`)).ok; } catch { return false; } });
    const initial = readFileSync(path.join(work, 'data', 'initial-admin-password'), 'utf8').trim();

    // Its first sign-in asks for a password of the administrator's own before anything else.
    await login(page, ADMIN, initial, BASE);
    await page.waitForSelector('.password-gate');
    await shot(page, 'auth-00-first-password');
    await page.fill('#gate-current', initial);
    await page.fill('#gate-new', PASSWORD);
    await page.fill('#gate-confirm', PASSWORD);
    await page.click('.password-gate button[type=submit]');
    await page.waitForSelector('.password-gate', { state: 'detached' });

    // The administrator's view of the sign-in settings, and the connection test (the first URL
    // is a closed port: the test says it failed over).
    await page.waitForURL(/\/cases/);
    await page.goto(`${BASE}/admin/authentication`);
    await page.waitForSelector('.auth-methods .chip[data-method=ldap]');
    assert.equal(await page.locator('.auth-methods .chip[data-method=pki]').count(), 0, 'no certificates without TLS');
    await page.waitForFunction(() => [...document.querySelectorAll('.group-mapping input[name=group]')]
      .some((i) => i.value === 'cn=soc-analysts,ou=groups,dc=example,dc=org'));
    assert.equal(await page.inputValue('.directory-form input[name=bind-password]'), '********', 'the password is never shown');
    await page.waitForSelector('.security-events tr.event-login >> text=admin@waggle.local');
    await page.click('button.test-directory');
    await page.waitForSelector('pre.test-result');
    const report = await page.textContent('pre.test-result');
    assert.match(report, /bound as cn=svc-waggle/);
    assert.match(report, /skipped ldap:\/\/127\.0\.0\.1:1/);
    await shot(page, 'auth-01-admin');
    // Changed from the page, without a restart: the closed port is dropped, the test no longer
    // skips it; the change is in the security trail.
    await page.fill('.directory-form textarea[name=urls]', ldapUrl);
    await page.click('button.save-directory');
    await page.waitForSelector('pre.test-result >> text=Saved');
    await page.click('button.test-directory');
    await page.waitForFunction(() => /bound as cn=svc-waggle/.test(document.querySelector('pre.test-result')?.textContent ?? ''));
    assert.doesNotMatch(await page.textContent('pre.test-result'), /skipped/);
    await page.reload();
    await page.waitForSelector('.security-events tr.event-settings-changed');
    assert.equal(await page.inputValue('.directory-form textarea[name=urls]'), ldapUrl);
    await page.click('.usermenu-button');
    await page.click('.usermenu-list button:has-text("Log out")');
    await page.waitForURL(/\/login/);
    await page.waitForSelector('.login-hint >> text=directory');

    // Alice signs in with her directory password: her account is made from the mapping.
    await login(page, 'alice', 'wrong', BASE);
    await page.waitForSelector('.error-note >> text=wrong login or password');
    await login(page, 'alice', 'alice-pw', BASE);
    await page.waitForURL(/\/cases/);
    await page.waitForSelector('.usermenu-button:has-text("Alice Analyst")');
    const me = await page.evaluate(async () => (await fetch('/api/user/current')).json());
    assert.equal(me.profile, 'analyst');
    assert.equal(me.organisation, 'soc');
    await shot(page, 'auth-02-directory-user');
    // An analyst does not see the sign-in settings.
    await page.goto(`${BASE}/admin/authentication`);
    await page.waitForSelector('.error-note');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await stopProcess(waggle);
    await stopProcess(slapd);
    rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
});
