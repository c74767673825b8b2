// Case management in the browser: import the Phishing Email template, create a case from it,
// add a task log with an attachment, add observables in bulk, toggle IOC and sighted, see a
// value seen in another case, merge two cases, close the merged case; the list with its
// filters, keyboard and both themes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BASE, launch, login, shot } from './helpers.mjs';

const TEMPLATE = process.env.PHISHING_TEMPLATE
  ?? fileURLToPath(new URL('../../fixtures/thehive3/case-templates/Case-Template__Phishing_Email.json', import.meta.url));

test('case management flow', async () => {
  const { browser, page, errors } = await launch();
  try {
    await login(page);
    await page.waitForURL(`${BASE}/cases`);
    await page.waitForSelector('text=No open cases');

    // The template, imported through the v0 API with the browser's session.
    const imported = await page.request.post(`${BASE}/api/case/template/_import`, {
      data: JSON.parse(readFileSync(TEMPLATE, 'utf8')),
    });
    assert.equal(imported.status(), 201, await imported.text());

    // New case from the template.
    await page.click('text=New case');
    await page.waitForSelector('.modal');
    await page.selectOption('#new-case-template', 'Phishing Email');
    await page.waitForSelector('text=5 task(s)');
    await page.fill('#new-case-title', 'Suspicious invoice from ACME');
    await page.fill('#new-case-description', 'Reported by **finance**.');
    await shot(page, '10-new-case-dialog');
    await page.click('.modal button[type=submit]');
    await page.waitForURL(`${BASE}/cases/1`);
    await page.waitForSelector('.case-title');
    assert.match(await page.textContent('.case-title'), /Suspicious invoice from ACME/);
    assert.match(await page.textContent('.case-meta'), /TLP:AMBER/);
    assert.match(await page.innerHTML('.markdown'), /<strong>finance<\/strong>/);
    await shot(page, '11-case-details');

    // Tasks from the template, grouped; a log with an attachment on the first.
    await page.click('.tabs >> text=Tasks');
    await page.waitForURL(`${BASE}/cases/1/tasks`);
    await page.waitForSelector('text=Lessons Learned');
    assert.equal(await page.locator('table.tasks tr.task').count(), 5);
    assert.equal(await page.locator('tr.group-row').count(), 5);
    await shot(page, '12-case-tasks');
    await page.click('text=Identification');
    await page.waitForURL(/\/cases\/1\/tasks\//);
    await page.waitForSelector('#task-log-message');
    await page.fill('#task-log-message', 'Headers show a **spoofed** sender.');
    await page.click('.md-tabs >> text=Preview');
    await page.waitForSelector('.md-preview strong');
    await page.setInputFiles('#task-log-file', { name: 'headers.txt', mimeType: 'text/plain', buffer: Buffer.from('Received: from evil.example\n') });
    await page.click('button:text-is("Add log")');
    await page.waitForSelector('.log .attachment >> text=headers.txt');
    assert.match(await page.innerHTML('.log .markdown'), /<strong>spoofed<\/strong>/);
    const href = await page.getAttribute('.log .attachment a', 'href');
    const file = await page.request.get(`${BASE}${href}`);
    assert.equal(await file.text(), 'Received: from evil.example\n');
    await shot(page, '13-task-with-log');
    // A log starts its task; another task is started from the list.
    await page.waitForSelector('.case-header >> text=In progress');
    await page.click('.case-header a.back');
    await page.waitForURL(`${BASE}/cases/1/tasks`);
    await page.click('tr:has-text("Containment") button:text-is("Start")');
    await page.waitForSelector('tr:has-text("Containment") >> text=In progress');

    // Observables in bulk (one per line, a repeat refused), then IOC and sighted.
    await page.goto(`${BASE}/cases/1/observables`);
    await page.click('text=Add observables');
    await page.selectOption('#observable-type', 'ip');
    await page.fill('#observable-values', '10.0.0.1\n10.0.0.2\n\n192.0.2.7\n10.0.0.1\n');
    await page.click('.add-observables button[type=submit]');
    await page.waitForSelector('text=Added: 3; refused 1');
    // The notice comes with the answer; the list reloads after it.
    await page.waitForSelector('table.observables tbody tr');
    assert.equal(await page.locator('table.observables tbody tr').count(), 3);
    await page.locator('.ioc-toggle').first().click();
    await page.waitForSelector('.ioc-toggle.on');
    assert.equal(await page.locator('.ioc-toggle.on').count(), 1);
    await page.check('th.check input');
    await page.click('.bulk-bar >> text=Mark sighted');
    await page.waitForFunction(() => document.querySelectorAll('.sighted-toggle.on').length === 3);
    await shot(page, '14-observables');

    // A second case sharing a value: "seen in 1 other case", with a link.
    const second = await page.request.post(`${BASE}/api/case`, { data: { title: 'Beaconing host', description: 'EDR alert', severity: 3 } });
    assert.equal(second.status(), 201);
    const secondId = (await second.json()).id;
    const obs = await page.request.post(`${BASE}/api/case/${secondId}/artifact`, { data: { dataType: 'ip', data: '10.0.0.2' } });
    assert.equal(obs.status(), 201);
    await page.reload();
    await page.click('text=1 other case');
    await page.waitForSelector('.sightings >> text=Beaconing host');
    await page.click('.tabs >> text=Details');
    await page.waitForSelector('text=Related cases');
    await page.waitForSelector('.card >> text=Beaconing host');

    // Merge #1 with #2.
    await page.click('text=Merge…');
    await page.fill('#merge-search', 'Beaconing');
    await page.waitForSelector('.merge-candidates >> text=Beaconing host');
    await shot(page, '15-merge-dialog');
    await page.click('.merge-candidates button:text-is("Add")');
    await page.waitForSelector('.merge-chosen >> text=Beaconing host');
    await page.click('#merge-chosen');
    await page.waitForURL(`${BASE}/cases/3`);
    await page.waitForSelector('.case-title');
    assert.match(await page.textContent('.case-title'), /#1:.*Suspicious invoice.* \/ #2:Beaconing host/);

    // Close the merged case.
    await page.click('text=Close case…');
    await page.selectOption('#close-resolution', 'TruePositive');
    await page.fill('#close-summary', 'Blocked the sender; no credentials lost.');
    await page.click('.modal button[type=submit]');
    await page.waitForSelector('.case-meta >> text=Resolved: True positive');
    await page.waitForSelector('text=Blocked the sender');
    await shot(page, '16-case-closed');
    await page.click('.tabs >> text=Activity');
    await page.waitForSelector('table.activity >> text=Update');
    await shot(page, '17-case-activity');

    // The list: every status, chips, sorting, keyboard, reload-safe URL, both themes.
    await page.goto(`${BASE}/cases?status=any`);
    await page.waitForSelector('table.cases');
    assert.equal(await page.locator('table.cases tbody tr').count(), 3);
    await page.waitForSelector('.chip >> text=Status: any');
    await page.click('th.sortable >> text=Severity');
    await page.waitForURL(/sort=-severity/);
    await page.reload();
    await page.waitForSelector('table.cases');
    assert.equal(await page.locator('table.cases tbody tr').last().getAttribute('data-case'), '1', 'medium severity last');
    await page.selectOption('select[aria-label=Status]', 'Resolved');
    await page.waitForURL(/status=Resolved/);
    await page.fill('.search-box', 'Beaconing');
    await page.press('.search-box', 'Enter');
    await page.waitForURL(/text=Beaconing/);
    await page.waitForFunction(() => document.querySelectorAll('table.cases tbody tr').length === 2);
    await page.click('.chip:has-text("Text: Beaconing") .chip-remove');
    await page.waitForFunction(() => !location.search.includes('text='));
    await page.click('text=Save filter');
    await page.waitForSelector('text=Filter saved');
    // Opened without filters, the list applies the saved filter; cleared, "My filter" brings it back.
    await page.goto(`${BASE}/cases`);
    await page.waitForURL(/status=Resolved/);
    await page.waitForSelector('.saved-filter-chip');
    await page.click('.saved-filter-chip .chip-remove');
    await page.waitForSelector('text=No open cases');
    await page.click('text=My filter');
    await page.waitForURL(/status=Resolved/);
    await page.waitForSelector('table.cases');
    await page.check('table.cases tbody tr:first-child td.check input');
    await page.waitForSelector('.bulk-bar >> text=1 selected');
    await shot(page, '18-cases-list');
    await page.click('.bulk-bar >> text=Clear selection');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/cases\/\d+$/);
    // A dashboard's link: a v0 query in `q`.
    const q = encodeURIComponent(JSON.stringify({ _field: 'severity', _value: 2 }));
    await page.goto(`${BASE}/cases?q=${q}`);
    await page.waitForSelector('.chip >> text=Query:');
    await page.waitForFunction(() => document.querySelectorAll('table.cases tbody tr').length === 1);
    await page.click('button.theme-toggle');
    await page.goto(`${BASE}/cases?status=any`);
    await page.waitForSelector('table.cases');
    await shot(page, '19-cases-list-dark');
    await page.goto(`${BASE}/cases/1/observables`);
    await page.waitForSelector('table.observables');
    await shot(page, '20-observables-dark');
    await page.goto(`${BASE}/cases/3`);
    await page.waitForSelector('.case-title');
    await shot(page, '21-case-dark');
    await page.click('button.theme-toggle');
    assert.deepEqual(errors, [], 'no script errors');
  } finally {
    await browser.close();
  }
});
