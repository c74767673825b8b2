// The first page in a fresh browser (no cache): how long until the sign-in form takes input, and
// how many bytes of the UI crossed the wire. Figures are printed, not asserted (the benchmark
// rule); what is asserted is that the UI is sent precompressed with brotli and starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, api, launch, login } from './helpers.mjs';

test('first page interactive in a fresh browser, and the bundle as transferred', async () => {
  const runs = [];
  let transfer = null;
  for (let i = 0; i < 3; i++) {
    // A new browser each time: nothing cached, no warm process.
    const { browser, page, errors } = await launch();
    try {
      const assets = [];
      page.on('response', async (r) => {
        const url = r.url();
        if (/\.(wasm|js|css)$/.test(url)) {
          const sizes = await r.request().sizes().catch(() => null);
          assets.push({ url, encoding: (await r.allHeaders())['content-encoding'] ?? 'identity', bytes: sizes?.responseBodySize ?? 0 });
        }
      });
      const started = performance.now();
      await page.goto(`${BASE}/login`);
      await page.fill('#login', 'someone');
      assert.equal(await page.inputValue('#login'), 'someone');
      runs.push(performance.now() - started);
      assert.deepEqual(errors, []);
      const wasm = assets.filter((a) => a.url.endsWith('.wasm'));
      assert.equal(wasm.length, 1, `only the main WASM module is fetched for the first page: ${wasm.map((a) => a.url)}`);
      assert.equal(wasm[0].encoding, 'br', 'the WASM module is sent brotli-compressed');
      transfer = assets;
    } finally {
      await browser.close();
    }
  }
  runs.sort((a, b) => a - b);
  const kb = (n) => (n / 1024).toFixed(0);
  const total = transfer.reduce((s, a) => s + a.bytes, 0);
  const wasm = transfer.find((a) => a.url.endsWith('.wasm'));
  console.log(`First page interactive (fresh Chromium, sign-in form takes input): median ${runs[1].toFixed(0)} ms (runs: ${runs.map((r) => r.toFixed(0)).join(', ')} ms)`);
  console.log(`UI transferred: WASM ${kb(wasm.bytes)} KiB (${wasm.encoding}), scripts and styles ${kb(total - wasm.bytes)} KiB`);
});

test('the administration, the dashboards, a case and a job come in modules of their own, fetched when first opened', async () => {
  const { browser, page, errors } = await launch();
  try {
    const fetched = [];
    page.on('response', async (r) => {
      if (r.url().endsWith('.wasm')) {
        const sizes = await r.request().sizes().catch(() => null);
        fetched.push({ url: r.url(), encoding: (await r.allHeaders())['content-encoding'] ?? 'identity', bytes: sizes?.responseBodySize ?? 0 });
      }
    });
    await login(page);
    await page.waitForSelector('text=Cases');
    assert.deepEqual(fetched.filter((a) => /split_|chunk_/.test(a.url)).map((a) => a.url), [], 'no split module before its page is opened');
    const split = (name) => fetched.filter((a) => a.url.includes(`split_${name}_`));

    // Through the menu (client-side navigation), then a page load straight on a split route.
    await page.click('a[href="/admin"]');
    await page.waitForSelector('h1:has-text("Administration")');
    assert.equal(split('admin').length, 1, 'the administration module is fetched once');
    assert.equal(split('admin')[0].encoding, 'br');
    await page.goto(`${BASE}/dashboards`);
    await page.waitForSelector('h1:has-text("Dashboards")');
    assert.equal(split('dashboards').length, 1, 'the dashboards list module is fetched');
    assert.equal(split('admin').length, 1, 'the administration module is not fetched for the dashboards');

    // A case: its module comes with the first case opened, from the cases list; its tabs and
    // the next case need nothing more.
    const title = `Split module case ${Date.now()}`;
    await api('/api/case', { body: { title, description: 'first' } });
    await api('/api/case', { body: { title: `${title} 2`, description: 'second' } });
    await page.click('a[href="/cases"]');
    await page.click(`text=${title} 2`);
    await page.waitForSelector(`.case-header >> text=${title} 2`);
    assert.equal(split('case').length, 1, 'the case module is fetched with the first case');
    await page.click('a[href="/cases"]');
    await page.click(`text="${title}"`);
    await page.waitForSelector(`.case-header >> text="${title}"`);
    await page.click('.tabs >> text=Observables');
    await page.waitForSelector('text=Add observables');
    assert.equal(split('case').length, 1, 'not again for the next case or a tab');
    assert.deepEqual(errors, []);
    const kb = (n) => (n / 1024).toFixed(0);
    const size = (name) => split(name).reduce((s, a) => s + a.bytes, 0);
    console.log(`Split modules transferred when first opened: administration ${kb(size('admin'))} KiB, dashboards list ${kb(size('dashboards'))} KiB, a case ${kb(size('case'))} KiB (plus shared chunks)`);
  } finally {
    await browser.close();
  }
});
