// Case reports in the browser: the case page's Report dialog downloads the PDF (and shows a
// refusal in the dialog), and the report templates page uploads, lists and deletes a template.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BASE, api, launch, login, shot } from './helpers.mjs';

test('report dialog and report templates page', async () => {
  const { browser, context, page, errors } = await launch();
  try {
    const made = await api('/api/case', { body: { title: 'Report me', description: 'A case for the **report**.', tlp: 2 } });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const id = made.json.id;
    let r = await api(`/api/case/${id}/task`, { body: { title: 'Contain' } });
    assert.equal(r.status, 201);
    r = await api(`/api/case/${id}/artifact`, { body: { dataType: 'domain', data: 'evil.example', ioc: true } });
    assert.equal(r.status, 201);

    await login(page);
    await page.waitForURL(`${BASE}/cases`);

    // Report templates: upload one as text with a RED marking.
    await page.goto(`${BASE}/admin/report-templates`);
    await page.waitForSelector('table.report-templates td:has-text("default")');
    await page.fill('#report-template-name', 'executive');
    await page.selectOption('#report-template-tlp', '3');
    await page.fill('#report-template-content', '# Executive summary: {{ case.title | md }}\n\n{{ tasks | length }} task(s), {{ iocCount }} IOC(s).\n');
    await page.click('button:has-text("Upload template")');
    await page.waitForSelector('.ok-note:has-text("Uploaded “executive”")');
    await page.waitForSelector('table.report-templates td:has-text("executive")');
    // A broken one is refused where the user acted.
    await page.fill('#report-template-name', 'broken');
    await page.fill('#report-template-content', '{% for t in tasks %}');
    await page.click('button:has-text("Upload template")');
    await page.waitForSelector('.error-note:has-text("not valid")');
    await shot(page, 'reports-01-templates');

    // The case page: Report… -> PDF with the uploaded template.
    await page.goto(`${BASE}/cases/${id}`);
    await page.click('#case-report');
    await page.waitForSelector('#report-template option[value="executive"]', { state: 'attached' });
    await page.selectOption('#report-format', 'pdf');
    await page.selectOption('#report-template', 'executive');
    await shot(page, 'reports-02-dialog');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#report-download')]);
    assert.match(download.suggestedFilename(), /^case-\d+-report\.pdf$/);
    const file = readFileSync(await download.path());
    assert.equal(file.subarray(0, 5).toString(), '%PDF-');

    // Markdown with the default template.
    await page.click('#case-report');
    await page.waitForSelector('#report-template option[value="default"]', { state: 'attached' });
    await page.selectOption('#report-format', 'md');
    await page.selectOption('#report-template', 'default');
    const [md] = await Promise.all([page.waitForEvent('download'), page.click('#report-download')]);
    const text = readFileSync(await md.path(), 'utf8');
    assert.ok(text.startsWith('**TLP:AMBER**'), text.slice(0, 80));
    assert.ok(text.includes('Report me'));

    // A template deleted meanwhile: the refusal is shown in the dialog.
    await page.click('#case-report');
    await page.waitForSelector('#report-template option[value="executive"]', { state: 'attached' });
    await page.selectOption('#report-template', 'executive');
    const list = await api('/api/report/template', { method: 'GET' });
    const executive = list.json.find((t) => t.name === 'executive');
    r = await api(`/api/report/template/${executive.id}`, { method: 'DELETE' });
    assert.equal(r.status, 204);
    await page.click('#report-download');
    await page.waitForSelector('.modal .error-note:has-text("Unknown report template")');
    await shot(page, 'reports-03-refused');
    assert.deepEqual(errors, [], 'no script errors');
    await context.close();
  } finally {
    await browser.close();
  }
});
