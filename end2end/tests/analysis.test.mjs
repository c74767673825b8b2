// The analysis engine in Chromium, with the real TestAnalyzer of tests/cortex-analyzers: an
// administrator enables it from Administration › Analyzers (a form made from its configuration
// items), runs it from an observable's "Analyze" dialog, watches the job finish, sees the
// coloured mini-reports on the observable's row, opens the report (summary, full report, raw
// JSON), adds the extracted artifact to the case; runs it on an alert's observable from the
// alert preview; then the jobs page lists the jobs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, shot, login, api } from './helpers.mjs';

test('analysis: enable an analyzer, run it on an observable, read its report, add its artifact', async () => {
  const c = await api('/api/case', { body: { title: 'Phishing wave', description: 'Analyzers at work' } });
  assert.equal(c.status, 201, JSON.stringify(c.json));
  const o = await api(`/api/case/${c.json.id}/artifact`, { body: { dataType: 'ip', data: '1.2.3.4', message: 'The sender' } });
  assert.equal(o.status, 201, JSON.stringify(o.json));

  const { browser, page, errors } = await launch();
  try {
    await login(page);
    await page.waitForURL(/\/cases/);

    // Administration › Analyzers: the definitions found on disk; enable TestAnalyzer.
    await page.goto(`${BASE}/admin/analyzers`);
    const def = page.locator('tr[data-definition="TestAnalyzer_1_0"]');
    await def.locator('button.enable-analyzer').click();
    await page.waitForSelector('form.analyzer-form');
    // The form comes from configurationItems, with their defaults.
    assert.equal(await page.inputValue('form.analyzer-form input[name="some_string"]'), 'some string..');
    assert.equal(await page.inputValue('form.analyzer-form textarea[name="some_list"]'), 'item1\nitem2\nitem3');
    await page.fill('form.analyzer-form input[name="rate"]', '100');
    await page.selectOption('form.analyzer-form select[name="rate-unit"]', 'Hour');
    await shot(page, 'analysis-01-enable');
    await page.click('button.save-analyzer');
    await page.waitForSelector('tr[data-analyzer="TestAnalyzer_1_0"]');
    assert.match(await page.textContent('tr[data-analyzer="TestAnalyzer_1_0"]'), /100 \/ Hour/);
    await shot(page, 'analysis-02-analyzers');

    // The case's observables: Analyze, Run all, the job goes from Waiting to Success.
    await page.goto(`${BASE}/cases/${c.json.caseId}/observables`);
    await page.click('tr:has-text("1.2.3.4") button.analyze-observable');
    await page.waitForSelector('.analyze-dialog label.analyzer-choice >> text=TestAnalyzer_1_0');
    await page.click('.analyze-dialog button.run-all');
    await page.waitForSelector('.analyze-dialog table.jobs .job-status.success', { timeout: 20000 });
    await shot(page, 'analysis-03-dialog');
    await page.keyboard.press('Escape');

    // The row's mini-reports: TestAnalyzer's four levels, coloured.
    const row = page.locator('tr:has-text("1.2.3.4")');
    await row.locator('.mini-reports .taxonomy').first().waitFor();
    for (const level of ['info', 'safe', 'suspicious', 'malicious']) {
      assert.equal(await row.locator(`.taxonomy.level-${level}`).count(), 1, level);
    }
    // AddTagToArtifact (the report's operation) tagged it.
    await row.locator('text=test').first().waitFor();
    await shot(page, 'analysis-04-mini-reports');

    // Several observables at once from the selection bar: their rows get mini-reports by
    // themselves (the page follows the running jobs).
    const more = await api(`/api/case/${c.json.id}/artifact`, { body: { dataType: 'ip', data: ['5.6.7.8', '9.10.11.12'] } });
    assert.equal(more.status, 201, JSON.stringify(more.json));
    await page.reload();
    for (const v of ['5.6.7.8', '9.10.11.12']) await page.check(`tr:has-text("${v}") td.check input`);
    await page.click('.bulk-bar button.bulk-analyze');
    for (const v of ['5.6.7.8', '9.10.11.12']) {
      await page.locator(`tr:has-text("${v}") .mini-reports .taxonomy.level-malicious`).waitFor({ timeout: 20000 });
    }
    await shot(page, 'analysis-04b-bulk');

    // The report page: summary, full report as a tree, artifacts to add.
    await row.locator('button.analyze-observable').click();
    await page.click('.analyze-dialog a.open-report');
    await page.waitForURL(/\/jobs\//);
    await page.waitForSelector('.job-taxonomies .taxonomy');
    await page.waitForSelector('.job-full .json-tree >> text=arrayExample');
    await page.waitForSelector('table.artifacts >> text=8.8.8.8');
    await shot(page, 'analysis-05-report');
    await page.click('table.artifacts button.add-artifact');
    await page.waitForSelector('.ok-note >> text=1 observable(s) added to the case');
    await page.click('a.back-link');
    await page.waitForSelector('table.observables >> text=8.8.8.8');

    // An alert's observable, from the alert preview: its mini-reports show in the preview.
    const a = await api('/api/alert', { body: { type: 'siem', source: 'edr', sourceRef: 'E2E-ANALYSIS', title: 'Beacon to a known IP',
      description: 'seen by the EDR', artifacts: [{ dataType: 'ip', data: '203.0.113.77' }] } });
    assert.equal(a.status, 201, JSON.stringify(a.json));
    await page.goto(`${BASE}/alerts`);
    await page.click('tr.alert-row:has-text("Beacon to a known IP")');
    await page.click('.alert-preview button.analyze-observable');
    await page.click('.analyze-dialog button.run-all');
    await page.waitForSelector('.analyze-dialog table.jobs .job-status.success', { timeout: 20000 });
    await page.click('.modal .icon-close');
    await page.waitForSelector('.alert-preview .mini-reports .taxonomy.level-malicious');
    await shot(page, 'analysis-06-alert');

    // The jobs page (administrators).
    await page.goto(`${BASE}/admin/jobs`);
    await page.waitForSelector('table.all-jobs .job-status.success');
    await shot(page, 'analysis-07-jobs');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
