// The first page in a fresh browser (no cache): how long until the sign-in form takes input, and
// how many bytes of the UI crossed the wire. Figures are printed, not asserted (the benchmark
// rule); what is asserted is that the UI is sent precompressed with brotli and starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch } from './helpers.mjs';

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
      const wasm = assets.find((a) => a.url.endsWith('.wasm'));
      assert.ok(wasm, 'the WASM module was fetched');
      assert.equal(wasm.encoding, 'br', 'the WASM module is sent brotli-compressed');
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
