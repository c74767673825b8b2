// More of case management in the browser: tags added to and removed from many cases at once,
// an observable's tags, TLP and description edited (one, then TLP in bulk), a task's due date
// set (overdue shown) and its description edited, tasks deleted, three cases merged from the
// list, and the saved filter applied when the list is opened without filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, login, shot } from './helpers.mjs';

test('bulk tags, observable edits, due dates, task deletion, merge of three, saved filter', async () => {
  const { browser, page, errors } = await launch();
  try {
    await login(page);
    await page.waitForURL(`${BASE}/cases`);
    await page.waitForSelector('text=No open cases');

    // Three cases, two tasks and an observable on the first, through the v0 API.
    const ids = [];
    for (const [title, severity] of [['Alpha phishing', 2], ['Bravo phishing', 3], ['Charlie phishing', 1]]) {
      const r = await page.request.post(`${BASE}/api/case`, { data: { title, description: 'x', severity, tags: ['phishing'] } });
      assert.equal(r.status(), 201, await r.text());
      ids.push((await r.json()).id);
    }
    for (const title of ['Contain', 'Obsolete']) {
      const r = await page.request.post(`${BASE}/api/case/${ids[0]}/task`, { data: { title } });
      assert.equal(r.status(), 201, await r.text());
    }
    const obs = await page.request.post(`${BASE}/api/case/${ids[0]}/artifact`, { data: { dataType: 'domain', data: ['evil.example', 'bad.example'], tlp: 2 } });
    assert.equal(obs.status(), 201, await obs.text());
    const caseTags = async (id) => (await (await page.request.get(`${BASE}/api/case/${id}`)).json()).tags;

    // Bulk: add a tag to the three cases in one call, then remove one from a single case.
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('table.cases tbody tr').length === 3);
    await page.check('table.cases th.check input');
    await page.fill('#bulk-tags', 'campaign-x');
    await shot(page, '30-cases-bulk-tags');
    await page.click('#bulk-add-tags');
    await page.waitForSelector('text=Tags added: 3 case(s) changed');
    await page.waitForFunction(() => document.querySelectorAll('table.cases tbody .tag').length === 6);
    for (const id of ids) assert.deepEqual(await caseTags(id), ['phishing', 'campaign-x']);
    await page.check('table.cases tbody tr[data-case="2"] td.check input');
    await page.fill('#bulk-tags', 'phishing');
    await page.click('#bulk-remove-tags');
    await page.waitForSelector('text=Tags removed: 1 case(s) changed');
    assert.deepEqual(await caseTags(ids[1]), ['campaign-x']);
    assert.deepEqual(await caseTags(ids[0]), ['phishing', 'campaign-x']);
    // Without tags typed, the bulk bar says so where the user acted.
    await page.check('table.cases tbody tr[data-case="1"] td.check input');
    await page.click('#bulk-add-tags');
    await page.waitForSelector('.error-note >> text=Type the tags first');
    await page.click('.bulk-bar >> text=Clear selection');

    // Observables: edit one's tags, TLP and description; then set the TLP of both at once.
    await page.goto(`${BASE}/cases/1/observables`);
    await page.waitForSelector('table.observables');
    await page.click('table.observables tr:has-text("evil.example") button.edit-observable');
    await page.waitForSelector('.modal .observable-edit');
    await page.fill('#edit-observable-tags', 'c2, apt');
    await page.selectOption('#edit-observable-tlp', '3');
    await page.fill('#edit-observable-message', 'Seen in the proxy logs');
    await shot(page, '31-observable-edit');
    await page.click('.modal button[type=submit]');
    await page.waitForSelector('.modal', { state: 'detached' });
    const row = 'table.observables tr:has-text("evil.example")';
    await page.waitForSelector(`${row} .tag >> text=apt`);
    assert.match(await page.textContent(row), /TLP:RED/);
    assert.match(await page.textContent(row), /Seen in the proxy logs/);
    assert.doesNotMatch(await page.textContent('table.observables tr:has-text("bad.example")'), /TLP:RED/);
    const found = await (await page.request.post(`${BASE}/api/case/artifact/_search`, { data: { query: { _field: 'data', _value: 'evil.example' } } })).json();
    assert.deepEqual([found[0].tags, found[0].tlp, found[0].message], [['c2', 'apt'], 3, 'Seen in the proxy logs']);
    await page.check('table.observables th.check input');
    await page.selectOption('#bulk-observable-tlp', '1');
    await page.waitForSelector('text=TLP set: 2');
    await page.waitForFunction(() => [...document.querySelectorAll('table.observables tbody tr')].every((r) => r.textContent.includes('TLP:GREEN')));
    await shot(page, '32-observables-edited');

    // Tasks: a due date in the past is overdue; a task is deleted after confirmation.
    await page.goto(`${BASE}/cases/1/tasks`);
    await page.waitForSelector('table.tasks');
    await page.fill('tr:has-text("Contain") input.due-input', '2020-01-15');
    await page.waitForSelector('tr.task.overdue:has-text("Contain") .overdue-label');
    await page.click('tr:has-text("Obsolete") button.delete-task');
    await page.waitForFunction(() => document.querySelectorAll('table.tasks tr.task').length === 1);
    await shot(page, '33-tasks-due-dates');
    const tasks = await (await page.request.post(`${BASE}/api/case/task/_search`, { data: { query: { _parent: { _type: 'case', _query: { _id: ids[0] } } } } })).json();
    assert.deepEqual(tasks.map((t) => t.title), ['Contain']);
    assert.equal(new Date(tasks[0].dueDate).toISOString().slice(0, 10), '2020-01-15');
    // The task page: description and a new due date edited, then the task deleted.
    await page.click('table.tasks >> text=Contain');
    await page.waitForSelector('.task-page .overdue-label');
    await page.click('#edit-task');
    await page.fill('#task-description', 'Block the **sender** domain.');
    await page.fill('#task-due', '2099-12-31');
    await page.click('.task-edit button[type=submit]');
    await page.waitForSelector('.task-dates >> text=Due 2099-12-31');
    assert.equal(await page.locator('.task-page .overdue-label').count(), 0);
    assert.match(await page.innerHTML('.case-header .markdown'), /<strong>sender<\/strong>/);
    await shot(page, '34-task-edited');
    await page.click('#delete-task');
    await page.waitForURL(`${BASE}/cases/1/tasks`);
    await page.waitForSelector('text=No tasks');

    // Merge three cases from the list.
    await page.goto(`${BASE}/cases`);
    await page.waitForFunction(() => document.querySelectorAll('table.cases tbody tr').length === 3);
    await page.check('table.cases tbody tr[data-case="1"] td.check input');
    assert.equal(await page.isDisabled('#bulk-merge'), true, 'one case cannot be merged');
    await page.check('table.cases th.check input');
    await page.click('#bulk-merge');
    await page.waitForSelector('.modal .merged-title');
    assert.equal(await page.textContent('.merged-title'), '#1:Alpha phishing / #2:Bravo phishing / #3:Charlie phishing');
    await shot(page, '35-merge-three');
    await page.click('#confirm-merge');
    await page.waitForURL(`${BASE}/cases/4`);
    await page.waitForSelector('.case-title');
    assert.match(await page.textContent('.case-title'), /#1:Alpha phishing \/ #2:Bravo phishing \/ #3:Charlie phishing/);
    for (const id of ids) {
      const c = await (await page.request.get(`${BASE}/api/case/${id}`)).json();
      assert.deepEqual([c.status, c.resolutionStatus], ['Resolved', 'Duplicated']);
    }

    // The saved filter applies when the list is opened without filters; one click clears it.
    await page.goto(`${BASE}/cases?status=Resolved`);
    await page.waitForFunction(() => document.querySelectorAll('table.cases tbody tr').length === 3);
    await page.click('text=Save filter');
    await page.waitForSelector('text=Filter saved');
    await page.waitForSelector('.saved-filter-chip');
    await page.goto(`${BASE}/cases`);
    await page.waitForURL(/status=Resolved/);
    await page.waitForSelector('.saved-filter-chip >> text=My filter');
    await page.waitForFunction(() => document.querySelectorAll('table.cases tbody tr').length === 3);
    await shot(page, '36-saved-filter-applied');
    await page.click('.saved-filter-chip .chip-remove');
    await page.waitForFunction(() => location.search === '');
    await page.waitForFunction(() => document.querySelectorAll('table.cases tbody tr').length === 1);
    assert.equal(await page.locator('.saved-filter-chip').count(), 0);
    // A URL with filters wins over the saved filter.
    await page.goto(`${BASE}/cases?status=Open`);
    await page.waitForFunction(() => document.querySelectorAll('table.cases tbody tr').length === 1);
    assert.equal(await page.locator('.saved-filter-chip').count(), 0);
    assert.deepEqual(errors, [], 'no script errors');
  } finally {
    await browser.close();
  }
});
