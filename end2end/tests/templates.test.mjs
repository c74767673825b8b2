// The case template editor: default custom fields (typed inputs, options as a list), default
// metrics and each task's owner, group and description; saved, re-opened, and applied to a
// case made from the template.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, login, shot } from './helpers.mjs';

async function call(page, method, path, data) {
  const r = await page.request.fetch(`${BASE}${path}`, { method, data, headers: { 'content-type': 'application/json' } });
  const text = await r.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: r.status(), body };
}

test('template editor: default custom fields, metrics and task owners', async () => {
  const { browser, page, errors } = await launch();
  try {
    await login(page);
    await page.waitForURL(`${BASE}/cases`);
    // Definitions and a user to own a task.
    for (const input of [
      { name: 'Business unit', reference: 'businessUnit', type: 'string', options: ['HR', 'IT'] },
      { name: 'Hosts', reference: 'hosts', type: 'integer' },
      { name: 'VIP', reference: 'vip', type: 'boolean' },
    ]) {
      const r = await call(page, 'POST', '/ui/admin/custom-fields/create', { input });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    let r = await call(page, 'POST', '/ui/admin/metrics/create', { input: { name: 'hoursToContain', title: 'Hours to contain' } });
    assert.equal(r.status, 200);
    r = await call(page, 'POST', '/api/user', { login: 'bob@soc', name: 'Bob', password: 'bob-password-1', profile: 'analyst' });
    assert.equal(r.status, 201, JSON.stringify(r.body));

    await page.goto(`${BASE}/admin/templates`);
    await page.click('button:has-text("New template")');
    await page.fill('#template-name', 'Ransomware');
    await page.fill('input[placeholder="comma separated"]', 'ransomware');
    // A task with a group, an owner and a description.
    await page.click('button:has-text("Add task")');
    await page.fill('input[aria-label="Task title"]', 'Isolate hosts');
    await page.locator('input[aria-label="Task title"]').press('Tab');
    await page.fill('input[aria-label="Task group"]', 'Containment');
    await page.locator('input[aria-label="Task group"]').press('Tab');
    await page.selectOption('select[aria-label="Task owner"]', 'bob@soc');
    await page.fill('textarea[aria-label="Task description"]', 'Pull the cable');
    await page.locator('textarea[aria-label="Task description"]').press('Tab');
    // Default custom fields: an options list, an integer, a boolean.
    for (const f of ['businessUnit', 'hosts', 'vip']) {
      await page.selectOption('select[aria-label="Custom field to add"]', f);
      await page.click('button:has-text("Add field")');
    }
    await page.selectOption('select[aria-label="Default value of Business unit"]', 'IT');
    await page.fill('input[aria-label="Default value of Hosts"]', '3');
    await page.locator('input[aria-label="Default value of Hosts"]').press('Tab');
    await page.selectOption('select[aria-label="Default value of VIP"]', 'true');
    // A default metric.
    await page.selectOption('select[aria-label="Metric to add"]', 'hoursToContain');
    await page.click('button:has-text("Add metric")');
    await page.waitForSelector('table[aria-label="Default metrics"] td:has-text("Hours to contain")');
    await shot(page, 'templates-01-editor');
    await page.click('button:has-text("Save template")');
    await page.waitForSelector('.ok-note:has-text("Saved “Ransomware”")');

    // Re-opened: the same defaults.
    await page.click('tr:has-text("Ransomware") button:has-text("Edit")');
    await page.waitForSelector('select[aria-label="Task owner"]');
    assert.equal(await page.inputValue('select[aria-label="Task owner"]'), 'bob@soc');
    assert.equal(await page.inputValue('input[aria-label="Task group"]'), 'Containment');
    assert.equal(await page.inputValue('select[aria-label="Default value of Business unit"]'), 'IT');
    assert.equal(await page.inputValue('input[aria-label="Default value of Hosts"]'), '3');
    assert.equal(await page.inputValue('select[aria-label="Default value of VIP"]'), 'true');
    assert.equal(await page.locator('table[aria-label="Default metrics"] tbody tr').count(), 1);
    await page.click('button.theme-toggle');
    await shot(page, 'templates-02-reopened-dark');
    await page.click('button.theme-toggle');
    // A value that is not a whole number is refused at the field, and nothing is saved.
    await page.fill('input[aria-label="Default value of Hosts"]', '2.5');
    await page.locator('input[aria-label="Default value of Hosts"]').press('Tab');
    await page.click('button:has-text("Save template")');
    assert.equal(await page.$eval('input[aria-label="Default value of Hosts"]', (el) => el.validity.valid), false);
    await page.waitForTimeout(300);
    assert.equal(await page.locator('.template-editor').count(), 1, 'the editor stays open');
    await page.click('.template-editor button:has-text("Cancel")');
    r = await call(page, 'GET', '/api/case/template/Ransomware');
    assert.equal(r.body.customFields.hosts.integer, 3, JSON.stringify(r.body));

    // A case from the template gets them.
    r = await call(page, 'POST', '/api/case', { title: 'Locky', description: 'd', template: 'Ransomware' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const c = r.body;
    assert.equal(c.customFields.businessUnit.string, 'IT');
    assert.equal(c.customFields.hosts.integer, 3);
    assert.equal(c.customFields.vip.boolean, true);
    assert.ok('hoursToContain' in c.metrics, JSON.stringify(c.metrics));
    r = await call(page, 'POST', '/api/case/task/_search?range=all', { query: { _parent: { _type: 'case', _id: c.id } } });
    assert.equal(r.body.length, 1);
    assert.deepEqual([r.body[0].title, r.body[0].owner, r.body[0].group, r.body[0].description], ['Isolate hosts', 'bob@soc', 'Containment', 'Pull the cable']);
    await page.goto(`${BASE}/cases/${c.id}`);
    await page.waitForSelector('text=Locky');
    await shot(page, 'templates-03-case');
    assert.deepEqual(errors, [], 'no script errors');
  } finally {
    await browser.close();
  }
});
