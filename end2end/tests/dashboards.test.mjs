// Dashboards in a real browser: the default dashboards render; create a dashboard, add a donut
// and a stacked bar, change the period, save a chart as PNG, share it and see it as another
// user of the organisation, not as a user of another organisation; import a TheHive file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BASE, ADMIN, PASSWORD, api, launch, shot, login, seedColleagueAndOtherTenant } from './helpers.mjs';

const FIXTURES = new URL('../../server/assets/dashboards/', import.meta.url).pathname;

function pngSize(buf) {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

test('dashboards: defaults, create, period, PNG, share, isolation, import', async () => {
  // Data to chart (cases through the case API), users and an organisation, through the API.
  for (const [i, severity] of [1, 2, 2, 3, 3, 3].entries()) {
    const c = await api('/api/case', { body: { title: `e2e case ${i}`, description: 'd', severity, tags: ['e2e'] } });
    assert.equal(c.status, 201, JSON.stringify(c.json));
    const o = await api(`/api/case/${c.json.id}/artifact`, { body: { dataType: i % 2 ? 'domain' : 'ip', data: [`10.0.0.${i}`, `10.0.1.${i}`].map((v) => (i % 2 ? `d${v}.example` : v)), message: 'seen', tags: ['e2e'], ioc: i === 0 } });
    assert.ok(o.status === 201 || o.status === 207, JSON.stringify(o.json));
    if (i < 2) {
      const p = await api(`/api/case/${c.json.id}`, { method: 'PATCH', body: { status: 'Resolved', resolutionStatus: 'TruePositive', impactStatus: 'NoImpact', summary: 'done' } });
      assert.equal(p.status, 200, JSON.stringify(p.json));
    }
  }
  await seedColleagueAndOtherTenant();

  const { browser, context, page, errors } = await launch();
  try {
    await login(page);
    await page.waitForURL(/\/cases/);
    await page.goto(`${BASE}/dashboards`);
    await page.waitForSelector('text=Alert statistics');
    await shot(page, 'dash-01-list');

    // A default dashboard renders every widget.
    await page.click('text=Alert statistics');
    await page.waitForSelector('.widget');
    const widgets = await page.locator('.widget').count();
    assert.equal(widgets, 5);
    await page.waitForFunction((n) => document.querySelectorAll('.widget .chart svg').length === n, widgets);
    await shot(page, 'dash-02-alert-statistics');

    // Create a dashboard, add a donut and a stacked bar.
    await page.goto(`${BASE}/dashboards`);
    await page.fill('input[placeholder="New dashboard title"]', 'E2E board');
    await page.click('button:has-text("Create")');
    await page.waitForSelector('button:has-text("+ Widget")');
    await page.click('button:has-text("+ Widget")');
    await page.selectOption('.widget-editor select[name=type]', 'donut');
    await page.fill('.widget-editor input[name=title]', 'Cases by status');
    await page.selectOption('.widget-editor select[name=entity]', 'case');
    await page.fill('.widget-editor input[name=field]', 'status');
    await page.click('.widget-editor button.apply');
    await page.click('button:has-text("+ Widget")');
    await page.selectOption('.widget-editor select[name=type]', 'bar');
    await page.fill('.widget-editor input[name=title]', 'Cases per day by severity');
    await page.selectOption('.widget-editor select[name=entity]', 'case');
    await page.fill('.widget-editor input[name=field]', 'severity');
    await page.fill('.widget-editor input[name=dateField]', 'createdAt');
    await page.selectOption('.widget-editor select[name=interval]', '1d');
    await page.click('.widget-editor button.apply');
    await page.waitForFunction(() => document.querySelectorAll('.widget .chart svg').length === 2);
    await page.selectOption('select.period', 'last7Days');
    await page.click('button.save');
    await page.waitForSelector('button.save', { state: 'detached' });
    await page.click('button:has-text("Done editing")');
    await shot(page, 'dash-03-created');
    const url = page.url();
    const id = new URL(url).pathname.split('/').pop();
    const saved = await api(`/api/dashboard/${id}`, { method: 'GET' });
    const def = JSON.parse(saved.json.definition);
    assert.equal(def.period, 'last7Days');
    assert.deepEqual(def.items[0].items.map((w) => w.type), ['donut', 'bar']);

    // Save a chart as PNG: a valid PNG of the expected size (560 x 300 drawn at 2x).
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('.widget').first().locator('button:has-text("PNG")').click(),
    ]);
    const path = await download.path();
    const size = pngSize(readFileSync(path));
    assert.deepEqual(size, { width: 1120, height: 600 });

    // Clicking a slice opens the matching cases.
    const box = await page.locator('.widget .chart').first().boundingBox();
    const scale = box.width / 560;
    // donut centre is at (r + 12, r + 8) with r = 140 in a 560x300 chart; click right of centre
    await page.mouse.click(box.x + (152 + 110) * scale, box.y + 148 * scale);
    await page.waitForURL(/\/cases\?q=/);
    const q = JSON.parse(new URL(page.url()).searchParams.get('q'));
    assert.ok(JSON.stringify(q).includes('"status"'), JSON.stringify(q));
    await page.goBack();

    // Private: Ana does not see it; shared: she does. Eve (another organisation) never does.
    await page.goto(url);
    await page.waitForSelector('button.share');
    const anaBefore = await api('/api/dashboard/_search', { auth: ['ana@soc', 'analyst-password-1'], body: { query: {} } });
    assert.ok(!anaBefore.json.some((d) => d.id === id));
    await page.click('button.share');
    await page.waitForSelector('.badge.status-shared');
    await shot(page, 'dash-04-shared');

    const ana = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const anaPage = await ana.newPage();
    anaPage.on('pageerror', (e) => errors.push(String(e)));
    await login(anaPage, 'ana@soc', 'analyst-password-1');
    await anaPage.waitForURL(/\/cases/);
    await anaPage.goto(`${BASE}/dashboards`);
    await anaPage.waitForSelector('text=E2E board');
    await anaPage.click('text=E2E board');
    await anaPage.waitForFunction(() => document.querySelectorAll('.widget .chart svg').length === 2);
    assert.equal(await anaPage.locator('button:has-text("Edit")').count(), 0, 'not hers to edit');
    await shot(anaPage, 'dash-05-seen-by-colleague');

    const eve = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const evePage = await eve.newPage();
    await login(evePage, 'eve@other', 'other-password-1');
    await evePage.waitForURL(/\/cases/);
    await evePage.goto(`${BASE}/dashboards`);
    await evePage.waitForSelector('text=Alert statistics');
    assert.equal(await evePage.locator('text=E2E board').count(), 0);
    await evePage.goto(`${BASE}/dashboards/${id}`);
    await evePage.waitForSelector('.error-note');
    await shot(evePage, 'dash-06-other-org');

    // The other kinds, built in the editor: multi-line (cases and alerts per day), counter and
    // text; each renders, and exports (SVG, CSV).
    await page.goto(`${BASE}/dashboards`);
    await page.fill('input[placeholder="New dashboard title"]', 'E2E more kinds');
    await page.click('button:has-text("Create")');
    await page.waitForSelector('button:has-text("+ Widget")');
    const addWidget = async (type, title, series, template) => {
      await page.click('button:has-text("+ Widget")');
      await page.selectOption('.widget-editor select[name=type]', type);
      await page.fill('.widget-editor input[name=title]', title);
      await page.selectOption('.widget-editor select[name=entity]', 'case');
      if (type === 'multiline') await page.selectOption('.widget-editor select[name=interval]', '1d');
      await page.fill('.widget-editor textarea[name=series]', JSON.stringify(series));
      if (template) await page.fill('.widget-editor textarea[name=template]', template);
      await page.click('.widget-editor button.apply');
    };
    await addWidget('multiline', 'Cases and alerts per day', [
      { agg: 'count', label: 'Cases', entity: 'case' },
      { agg: 'count', label: 'Alerts', entity: 'alert' },
    ]);
    await addWidget('counter', 'Counts', [{ agg: 'count', label: 'All cases' }]);
    await addWidget('text', 'Summary', [{ agg: 'count' }], 'There are {{agg_1}} cases');
    // Multi-line and counter are charts; the text widget is text.
    await page.waitForFunction(() => document.querySelectorAll('.widget .chart svg').length === 2 && document.querySelector('.widget .widget-text'));
    await page.click('button.save');
    await page.waitForSelector('button.save', { state: 'detached' });
    await page.click('button:has-text("Done editing")');
    const moreId = new URL(page.url()).pathname.split('/').pop();
    const more = await api(`/api/dashboard/${moreId}`, { method: 'GET' });
    assert.deepEqual(JSON.parse(more.json.definition).items.flatMap((r) => r.items.map((w) => w.type)), ['multiline', 'counter', 'text']);
    const kinds = page.locator('.widget');
    const multi = await kinds.nth(0).locator('.chart svg').innerHTML();
    assert.ok(multi.includes('Cases') && multi.includes('Alerts'), 'multi-line legend names both series');
    const counter = await kinds.nth(1).locator('.chart svg').textContent();
    assert.match(counter, /All cases/);
    assert.match(counter, /\d/);
    const text = await kinds.nth(2).locator('.widget-text').textContent();
    assert.match(text, /There are [\d,]+ cases/);
    await shot(page, 'dash-08-more-kinds');
    const [svgFile] = await Promise.all([page.waitForEvent('download'), kinds.nth(0).locator('button:has-text("SVG")').click()]);
    assert.match(readFileSync(await svgFile.path(), 'utf8'), /^<svg/);
    const [csvFile] = await Promise.all([page.waitForEvent('download'), kinds.nth(1).locator('button:has-text("CSV")').click()]);
    const csv = readFileSync(await csvFile.path(), 'utf8');
    assert.match(csv, /All cases/);
    const [pngFile] = await Promise.all([page.waitForEvent('download'), kinds.nth(1).locator('button:has-text("PNG")').click()]);
    // Drawn at 2x the widget's size (three to a row here: narrower than the first board's).
    const counterPng = pngSize(readFileSync(await pngFile.path()));
    assert.equal(counterPng.height, 600);
    assert.ok(counterPng.width >= 400, JSON.stringify(counterPng));

    // TheHive's four files imported through the UI: every widget drawn; exported from the UI:
    // the same definition. The last one in the dark theme (charts follow the toggle).
    const names = ['Case_statistics', 'Alert_statistics', 'Job_statistics', 'Observable_statistics'];
    for (const name of names) {
      const file = JSON.parse(readFileSync(`${FIXTURES}${name}.json`, 'utf8'));
      const widgetCount = file.definition.items.reduce((n, row) => n + row.items.length, 0);
      await page.goto(`${BASE}/dashboards`);
      await page.waitForSelector('text=Alert statistics');
      await page.setInputFiles('input[type=file]', `${FIXTURES}${name}.json`);
      await page.waitForURL(/\/dashboards\/[a-z0-9]+$/);
      await page.waitForFunction((n) => document.querySelectorAll('.widget .chart svg').length === n, widgetCount);
      const [exported] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Export JSON")')]);
      const back = JSON.parse(readFileSync(await exported.path(), 'utf8'));
      assert.equal(back.title, file.title, name);
      assert.deepEqual(back.definition, file.definition, `${name}: exported definition`);
    }
    const light = await page.evaluate(() => document.querySelector('.widget .chart svg').outerHTML);
    await page.click('button.theme-toggle');
    await page.waitForFunction((before) => document.querySelector('.widget .chart svg').outerHTML !== before, light);
    await shot(page, 'dash-07-imported-dark');
    await page.click('button.theme-toggle');
    assert.deepEqual(errors, [], 'no script errors');
  } finally {
    await browser.close();
  }
});
