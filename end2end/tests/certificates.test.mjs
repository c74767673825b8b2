// Sign-in with X.509 client certificates in Chromium, over Waggle's own TLS: a PKI made with the
// openssl CLI (server/tests/pki/make-pki.sh), a second Waggle started here with --tls-cert,
// --client-ca and the CRLs, and browser contexts presenting certificates (playwright-core's
// `clientCertificates`). A valid certificate opens the app with no password page; signing out
// leaves a "Sign in with your certificate" button; a revoked certificate gets no page at all;
// without a certificate the password page works as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'playwright-core';
import { ADMIN, PASSWORD, launch, shot, stopProcess } from './helpers.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const PORT = process.env.E2E_TLS_PORT ?? '19001';
const BASE = `https://127.0.0.1:${PORT}`;

test('certificates: signed in by a client certificate, signed out of it, revoked, none', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'waggle-certs-'));
  const pki = path.join(work, 'pki');
  execFileSync('bash', [path.join(ROOT, 'server/tests/pki/make-pki.sh'), pki]);
  const file = (f) => path.join(pki, f);
  const server = spawn(process.env.WAGGLE_BIN, ['serve', '--listen', `127.0.0.1:${PORT}`, '--data', path.join(work, 'data'),
    '--tls-cert', file('server.chain.pem'), '--tls-key', file('server.key'), '--client-ca', file('client-ca.pem'),
    '--crl', file('root.crl.pem'), '--crl', file('int.crl.pem'), '--log', 'warn'],
  { env: { ...process.env, WAGGLE_ADMIN_PASSWORD: PASSWORD }, stdio: 'ignore' });
  // The test's own PKI: Chromium's traffic goes through playwright's certificate proxy, which is
  // told not to check the server's certificate (the Rust tests check it: server/tests/tls.rs).
  const cert = (name) => [{ origin: BASE, certPath: file(`${name}.pem`), keyPath: file(`${name}.key`) }];
  const { browser, errors } = await launch();
  try {
    const admin = await request.newContext({ ignoreHTTPSErrors: true, extraHTTPHeaders: { authorization: 'Basic ' + Buffer.from(`${ADMIN}:${PASSWORD}`).toString('base64') } });
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      try { up = (await admin.get(`${BASE}/api/health`)).ok(); } catch { await new Promise((r) => setTimeout(r, 200)); }
    }
    assert.ok(up, 'the TLS server answers');
    const r = await admin.post(`${BASE}/api/user`, { data: { login: 'alice@example.org', name: 'Alice Example', profile: 'analyst' } });
    assert.equal(r.status(), 201, await r.text());
    await admin.dispose();

    // (Contexts without a valid certificate come first: playwright's certificate proxy, in this
    // Node process, could resume a TLS session made with alice's certificate.)
    // A revoked certificate: the handshake is refused, no page at all.
    const revoked = await browser.newContext({ ignoreHTTPSErrors: true, clientCertificates: cert('revoked') });
    const bad = await revoked.newPage();
    // Depending on when TLS 1.3 reports the refusal, the browser sees a failed navigation or
    // an error answer from playwright's proxy: never a page from Waggle.
    let resp = null;
    try { resp = await bad.goto(`${BASE}/`); } catch { resp = null; }
    assert.ok(resp === null || !resp.ok(), `a revoked certificate got an answer: ${resp?.status()} ${resp && (await resp.text()).slice(0, 200)}`);
    assert.equal(await bad.locator('.topbar, .login-card').count(), 0, 'no Waggle page');
    await revoked.close();

    // No certificate: the password page, without the certificate button; the password works.
    const none = await browser.newContext({ ignoreHTTPSErrors: true });
    const p2 = await none.newPage();
    await p2.goto(`${BASE}/`);
    await p2.waitForURL(/\/login/);
    await p2.fill('#login', ADMIN);
    await p2.fill('#password', PASSWORD);
    assert.equal(await p2.locator('button.certificate-login').count(), 0);
    await p2.click('button[type=submit]');
    await p2.waitForURL(/\/cases/);
    await none.close();
    // Alice's certificate: the app opens on the cases, no password asked.
    const alice = await browser.newContext({ viewport: { width: 1366, height: 768 }, ignoreHTTPSErrors: true, clientCertificates: cert('alice') });
    const page = await alice.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', (d) => d.accept());
    await page.goto(`${BASE}/`);
    await page.waitForURL(/\/cases/);
    await page.waitForSelector('.usermenu-button:has-text("Alice Example")');
    await page.click('.usermenu-button');
    await page.waitForSelector('.usermenu-note:has-text("Signed in with certificate")');
    await shot(page, 'cert-01-signed-in');

    // Signing out stays signed out; the login page offers the certificate.
    await page.click('.usermenu-list button:has-text("Log out")');
    await page.waitForURL(/\/login/);
    await page.waitForSelector('button.certificate-login:has-text("alice@example.org")');
    await page.reload();
    await page.waitForSelector('button.certificate-login');
    assert.match(page.url(), /\/login/);
    await shot(page, 'cert-02-signed-out');
    await page.click('button.certificate-login');
    await page.waitForURL(/\/cases/);
    await page.waitForSelector('.usermenu-button:has-text("Alice Example")');
    await alice.close();

    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await stopProcess(server);
    rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
});
