// Alert triage in the browser: 50 alerts fed through the v0 API, filtered to one source,
// preview of an alert whose observable is in a case (eye icon), import with a template, merge
// of two others into that case, the rest ignored in bulk; the URL keeps the filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, login, shot } from './helpers.mjs';

async function api(page, method, path, data) {
  const r = await page.request.fetch(`${BASE}${path}`, { method, data, headers: { 'content-type': 'application/json' } });
  const text = await r.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: r.status(), body };
}

test('alerts: filter, preview, import, merge, bulk ignore', async () => {
  const { browser, page, errors } = await launch();
  try {
    await login(page);
    await page.waitForURL(`${BASE}/cases`);

    // A template, a case holding a known IP, and 50 alerts from 5 sources.
    let r = await api(page, 'POST', '/api/case/template', { name: 'Phishing', titlePrefix: '[PHISH]', tasks: [{ title: 'Block the sender' }] });
    assert.ok(r.status < 300, JSON.stringify(r.body));
    r = await api(page, 'POST', '/api/case', { title: 'Known infrastructure', description: 'Seen before' });
    assert.equal(r.status, 201);
    const known = r.body;
    r = await api(page, 'POST', `/api/case/${known.id}/artifact`, { dataType: 'ip', data: '203.0.113.9', ioc: true });
    assert.equal(r.status, 201);
    const sources = ['e2e-feed', 'splunk', 'misp', 'qradar', 'sentinel'];
    for (let i = 0; i < 50; i++) {
      const source = sources[i % 5];
      const artifacts = [{ dataType: 'domain', data: `host${i}.example` }];
      if (i === 0) artifacts.push({ dataType: 'ip', data: '203.0.113.9' });
      r = await api(page, 'POST', '/api/alert', {
        type: 'external', source, sourceRef: `E2E-${i}`, title: `Suspicious login ${i}`, severity: 1 + (i % 4),
        description: `Alert **${i}** from ${source}`, date: 1_700_000_000_000 + i * 60_000, tags: ['e2e'], artifacts,
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }

    await page.goto(`${BASE}/alerts`);
    await page.waitForSelector('tr.alert-row');
    assert.equal(await page.locator('tr.alert-row').count(), 25, 'first page of 25');
    assert.match(await page.textContent('.tabs .tab.active'), /New\s*50/);
    await shot(page, 'alerts-01-list');

    // Filter to one source: in the URL, 10 alerts.
    await page.fill('input.filter-source', 'e2e-feed');
    await page.press('input.filter-source', 'Enter');
    await page.waitForURL(/source=e2e-feed/);
    await page.waitForFunction(() => document.querySelectorAll('tr.alert-row').length === 10);
    await page.waitForSelector('.chip:has-text("source: e2e-feed")');
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('tr.alert-row').length === 10);
    assert.equal(await page.inputValue('input.filter-source'), 'e2e-feed', 'the filter survives a reload');

    // Keyboard: j moves the cursor, Enter opens the preview, Esc closes it.
    await page.keyboard.press('j');
    await page.waitForSelector('tr.alert-row.cursor >> nth=0');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.alert-preview .preview-title');
    await page.keyboard.press('Escape');
    await page.waitForSelector('.alert-preview', { state: 'detached' });

    // Preview the alert whose IP is in a case: the eye icon says where.
    await page.click('tr.alert-row:has-text("E2E-0")');
    await page.waitForSelector('.alert-preview a.seen');
    assert.equal(await page.getAttribute('.alert-preview a.seen', 'title'), 'seen in 1 case');
    assert.equal(await page.getAttribute('.alert-preview a.seen', 'href'), `/cases/${known.id}`);
    await page.waitForSelector('.similar-case:has-text("Known infrastructure")');
    assert.match(await page.textContent('.alert-preview .markdown'), /Alert 0 from e2e-feed/);
    assert.equal(await page.locator('.alert-preview .markdown strong').count(), 1, 'markdown rendered');
    await shot(page, 'alerts-02-preview-seen');

    // Import it with the template.
    await page.waitForSelector('.alert-preview select option[value="Phishing"]', { state: 'attached' });
    await page.selectOption('.alert-preview select', 'Phishing');
    await page.click('.alert-preview button.import');
    await page.waitForSelector('.ok-note:has-text("Imported into case")');
    const note = await page.textContent('.ok-note');
    const number = note.match(/#(\d+)/)[1];
    assert.match(note, /\[PHISH\] Suspicious login 0/);
    await page.waitForFunction(() => document.querySelectorAll('tr.alert-row').length === 9);
    await shot(page, 'alerts-03-imported');

    // Merge two others into that case: select one, shift-click the next, pick the case by number.
    const boxes = page.locator('tr.alert-row td.check input');
    await boxes.nth(0).click();
    await boxes.nth(1).click({ modifiers: ['Shift'] });
    await page.waitForSelector('.bulk-bar:has-text("2 selected")');
    await page.click('.bulk-bar button:has-text("Merge into case")');
    await page.fill('.merge-search', number);
    await page.waitForSelector(`.case-choice:has-text("#${number}")`);
    await shot(page, 'alerts-04-merge-picker');
    await page.click(`.case-choice:has-text("#${number}")`);
    await page.waitForSelector('.ok-note:has-text("2 alert(s) merged into case")');
    await page.waitForFunction(() => document.querySelectorAll('tr.alert-row').length === 7);

    // Ignore the rest in bulk.
    await page.check('thead input[type=checkbox]');
    await page.waitForSelector('.bulk-bar:has-text("7 selected")');
    await page.click('.bulk-bar button.bulk-ignore');
    await page.waitForSelector('.ok-note:has-text("7 alerts ignored")');
    await page.waitForSelector('text=No alerts');
    await shot(page, 'alerts-05-all-triaged');

    // What the server holds now.
    r = await api(page, 'POST', '/api/alert/_search?range=all', { query: { source: 'e2e-feed' } });
    const byStatus = {};
    for (const a of r.body) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
    assert.deepEqual(byStatus, { Imported: 3, Ignored: 7 });
    const cases = new Set(r.body.filter((a) => a.status === 'Imported').map((a) => a.case));
    assert.equal(cases.size, 1, 'the three alerts point to one case');
    const [caseId] = [...cases];
    r = await api(page, 'POST', '/api/case/artifact/_search?range=all', { query: { _parent: { _type: 'case', _id: caseId } } });
    assert.equal(r.body.length, 4, 'the imported alert two observables, one per merged alert');
    r = await api(page, 'GET', `/api/case/${caseId}`);
    assert.equal(r.body.title, '[PHISH] Suspicious login 0');

    // The Imported tab, and the dark theme.
    await page.click('.tabs .tab:has-text("Imported")');
    await page.waitForURL(/status=Imported/);
    await page.waitForFunction(() => document.querySelectorAll('tr.alert-row').length === 3);
    await page.click('button.theme-toggle');
    await page.click('tr.alert-row >> nth=0');
    await page.waitForSelector('.alert-preview .preview-title');
    await shot(page, 'alerts-06-imported-dark');
    await page.click('button.theme-toggle');
    assert.deepEqual(errors, [], 'no script errors');
  } finally {
    await browser.close();
  }
});

test('alert sources: the upsert setting turns a duplicate into an update', async () => {
  const { browser, page, errors } = await launch();
  try {
    await login(page);
    await page.waitForURL(`${BASE}/cases`);
    const body = {
      type: 'external', source: 'e2e-upsert', sourceRef: 'U-1', title: 'Repeated detection', description: 'd',
      artifacts: [{ dataType: 'ip', data: '198.51.100.7' }],
    };
    let r = await api(page, 'POST', '/api/alert', body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    r = await api(page, 'POST', '/api/alert', body);
    assert.equal(r.status, 400, 'a duplicate is refused by default');
    assert.equal(r.body.type, 'ConflictError');

    // The source is listed (from the alerts seen), refusing duplicates; switch it to upsert.
    await page.goto(`${BASE}/admin/alert-sources`);
    const row = 'tr[data-source="e2e-upsert"]';
    await page.waitForSelector(row);
    assert.match(await page.textContent(row), /refuse/);
    assert.equal(await page.isChecked(`${row} input.upsert-toggle`), false);
    await page.click(`${row} input.upsert-toggle`);
    await page.waitForSelector('.ok-note:has-text("now update the existing alert")');
    await page.waitForSelector(`${row}:has-text("update (upsert)")`);
    await shot(page, 'alerts-07-sources-upsert');

    // The feeder sends it again: the existing alert is updated.
    r = await api(page, 'POST', '/api/alert', { ...body, artifacts: [...body.artifacts, { dataType: 'domain', data: 'again.example' }] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.occurrences, 2);
    assert.equal(r.body.artifacts.length, 2);

    // Kept across a reload; a source named in advance.
    await page.reload();
    await page.waitForSelector(row);
    assert.equal(await page.isChecked(`${row} input.upsert-toggle`), true);
    await page.fill('#alert-source-name', 'future-feed');
    await page.click('button:has-text("Save source")');
    await page.waitForSelector('tr[data-source="future-feed"]');
    assert.equal(await page.isChecked('tr[data-source="future-feed"] input.upsert-toggle'), true);

    // Off again: refused again.
    await page.click(`${row} input.upsert-toggle`);
    await page.waitForSelector('.ok-note:has-text("refused as duplicates")');
    r = await api(page, 'POST', '/api/alert', body);
    assert.equal(r.status, 400);
    await page.click('button.theme-toggle');
    await shot(page, 'alerts-08-sources-dark');
    await page.click('button.theme-toggle');
    assert.deepEqual(errors, [], 'no script errors');
  } finally {
    await browser.close();
  }
});
