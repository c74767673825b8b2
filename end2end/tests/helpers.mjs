// Shared by the browser tests: a headless Debian Chromium, the server's URL and credentials.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

export const BASE = process.env.WAGGLE_URL ?? 'http://127.0.0.1:19000';
export const ADMIN = process.env.WAGGLE_ADMIN_LOGIN ?? 'admin@waggle.local';
export const PASSWORD = process.env.WAGGLE_ADMIN_PASSWORD ?? 'e2e-admin-password';
export const SHOTS = new URL('../screenshots/', import.meta.url).pathname;
mkdirSync(SHOTS, { recursive: true });

export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => d.accept());
  return { browser, context, page, errors };
}

export async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
}

export async function login(page, login = ADMIN, password = PASSWORD, base = BASE) {
  await page.goto(`${base}/login`);
  await page.fill('#login', login);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
}

// A v0 API call with Basic credentials (the administrator's by default), `x-organisation` when
// `org` is given; answers the status and the parsed JSON.
export async function api(path, { method = 'POST', body, auth = [ADMIN, PASSWORD], org } = {}) {
  const headers = { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from(auth.join(':')).toString('base64') };
  if (org) headers['x-organisation'] = org;
  const r = await fetch(`${BASE}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

// A colleague in soc (ana@soc, analyst) and another tenant (`other`, with its administrator
// eve@other), through the API: for the tests that check what each of them sees.
export async function seedColleagueAndOtherTenant() {
  const checked = async (path, opts) => {
    const r = await api(path, opts);
    if (r.status !== 201) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.json)}`);
  };
  await checked('/api/user', { body: { login: 'ana@soc', name: 'Ana', password: 'analyst-password-1', profile: 'analyst' } });
  await checked('/api/organisation', { org: 'admin', body: { name: 'other', description: 'another tenant' } });
  await checked('/api/user', { org: 'admin', body: { login: 'eve@other', name: 'Eve', password: 'other-password-1', organisation: 'other', profile: 'org-admin' } });
}

/** Stop a child process (SIGTERM) and wait until it has ended (at most `ms`): a Waggle that
 * stops cleanly still writes into its data directory (the statistics snapshot), so a test
 * removes that directory only afterwards. */
export async function stopProcess(child, ms = 15000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill();
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, ms))]);
}
