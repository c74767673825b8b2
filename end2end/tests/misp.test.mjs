// MISP in the browser: a platform administrator adds a MISP server and a MISP feed in
// Administration › MISP, synchronises now (the feed's events become alerts), exports a case
// from the case page's MISP dialog, and marks an observable sighted (its MISP sightings count
// shows). MISP itself cannot run here (PHP/MySQL): a stand-in HTTP server in this test answers
// the few endpoints these steps use, as MISP 2.5.1 does (`fixtures/misp/misp-reference.md`); the
// server tests check Waggle's requests against MISP's OpenAPI document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, api, launch, login, shot } from './helpers.mjs';

const KEY = 'e2e0123456789abcdef0123456789abcdef0123';

function fakeMisp() {
  const events = new Map();
  const requests = [];
  let next = 100;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const json = body ? JSON.parse(body) : null;
      requests.push({ method: req.method, path: req.url, body: json });
      const send = (status, v) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(v)); };
      if (req.headers.authorization !== KEY) return send(403, { name: 'Authentication failed.', message: 'Authentication failed.', url: req.url });
      if (req.url === '/servers/getVersion') return send(200, { version: '2.5.1', perm_sighting: true });
      if (req.url === '/events/index') return send(200, []);
      if (req.method === 'POST' && req.url === '/events/add') {
        const id = String(next++);
        const ev = { ...json, id, uuid: `c99506a6-1255-4b71-afa5-${id.padStart(12, '0')}`, Attribute: (json.Attribute ?? []).map((a) => ({ ...a, id: String(next++) })) };
        events.set(id, ev);
        return send(200, { Event: ev });
      }
      if (req.method === 'POST' && req.url === '/sightings/add') {
        for (const ev of events.values()) for (const a of ev.Attribute) if (json.values.includes(a.value)) {
          a.Sighting = [...(a.Sighting ?? []), { type: '0' }];
          return send(200, { Sighting: { id: '1', type: '0' } });
        }
        return send(200, { message: 'Could not add the Sighting. Reason: No valid attributes found that match the criteria.' });
      }
      if (req.method === 'POST' && req.url === '/attributes/restSearch') {
        const found = [...events.values()].flatMap((e) => e.Attribute).filter((a) => a.value === json.value);
        return send(200, { response: { Attribute: found } });
      }
      send(404, { name: 'Not found', message: 'Not found', url: req.url });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}`, events, requests })));
}

test('MISP connections, synchronisation, export and sightings', async () => {
  const misp = await fakeMisp();
  const feed = mkdtempSync(join(tmpdir(), 'misp-feed-'));
  cpSync(new URL('../../fixtures/misp/feed/', import.meta.url).pathname, feed, { recursive: true });
  const { browser, page, errors } = await launch();
  try {
    await login(page);
    await page.waitForURL(`${BASE}/cases`);

    // Administration › MISP: a server, then a feed.
    await page.goto(`${BASE}/admin/misp`);
    await page.waitForSelector('.misp-admin');
    await page.click('button:has-text("Add a connection")');
    await page.fill('#misp-name', 'misp-lab');
    await page.fill('#misp-url', misp.url);
    await page.fill('#misp-key', KEY);
    await page.click('.misp-form button[type=submit]');
    await page.waitForSelector('tr[data-misp="misp-lab"]');
    await page.click('button:has-text("Add a connection")');
    await page.fill('#misp-name', 'circl-osint');
    await page.check('input[name="misp-kind"] >> nth=1');
    await page.fill('#misp-feed', feed);
    await page.click('.misp-form button[type=submit]');
    await page.waitForSelector('tr[data-misp="circl-osint"]');
    await page.click('#misp-sync-now');
    await page.waitForSelector('.ok-note:has-text("Synchronised 2 connections")');
    await page.waitForSelector('tr[data-misp="circl-osint"] td:has-text("3 new")');
    await shot(page, 'misp-01-admin');

    // The feed's events are alerts.
    const alerts = await api('/api/alert/_search?range=all', { body: { query: { type: 'misp' } } });
    assert.equal(alerts.json.length, 3, JSON.stringify(alerts.json).slice(0, 300));

    // The case page's MISP dialog exports the case's IOCs.
    const made = await api('/api/case', { body: { title: 'Phishing wave', description: 'd', tlp: 1 } });
    const id = made.json.id;
    let r = await api(`/api/case/${id}/artifact`, { body: { dataType: 'domain', data: 'evil.example', ioc: true } });
    assert.equal(r.status, 201);
    await page.goto(`${BASE}/cases/${id}`);
    await page.click('#case-misp-export');
    await page.waitForSelector('#misp-export-server option[value="misp-lab"]', { state: 'attached' });
    await page.fill('#misp-export-tags', 'campaign:x');
    await page.click('#misp-export-submit');
    await page.waitForSelector('#misp-export-result:has-text("created on misp-lab with 1 attribute")');
    await page.waitForSelector('.misp-exports li:has-text("misp-lab: event #")');
    await shot(page, 'misp-02-export');
    const ev = [...misp.events.values()][0];
    assert.equal(ev.info, 'Phishing wave');
    assert.deepEqual(ev.Tag.map((t) => t.name), ['tlp:green', 'campaign:x']);
    await page.click('.modal button:has-text("Close")');

    // Sighted: the sighting reaches MISP, the count shows on the observable.
    await page.goto(`${BASE}/cases/${id}/observables`);
    await page.click('table.observables .sighted-toggle');
    for (let i = 0; i < 50 && !misp.requests.some((q) => q.path === '/sightings/add'); i++) await new Promise((ok) => setTimeout(ok, 100));
    await new Promise((ok) => setTimeout(ok, 500));
    await page.reload();
    await page.waitForSelector('.misp-sightings:has-text("MISP: 1 sighting")');
    await shot(page, 'misp-03-sighting');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    misp.server.close();
    rmSync(feed, { recursive: true, force: true });
  }
});
