// Benchmark (not a test): time the Alert statistics dashboard in headless Chromium, from
// navigation to every widget drawn. `waggle-bench dashboards --browser` runs it against a
// server on the seeded store; it prints the figures.
import { BASE, ADMIN, PASSWORD, launch, shot, login } from '../tests/helpers.mjs';

const RUNS = Number(process.env.RUNS ?? 10);
const TARGET_MS = 1500;

const auth = 'Basic ' + Buffer.from(`${ADMIN}:${PASSWORD}`).toString('base64');
const r = await fetch(`${BASE}/api/dashboard/_search?range=all`, {
  method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: '{}',
});
const dashboards = await r.json();
const dash = dashboards.find((d) => d.title === 'Alert statistics');
if (!dash) throw new Error(`no Alert statistics dashboard: ${JSON.stringify(dashboards).slice(0, 300)}`);

const { browser, page, errors } = await launch();
try {
  await login(page);
  await page.waitForURL(/\/cases/);
  const times = [];
  for (let i = 0; i <= RUNS; i++) {
    await page.goto(`${BASE}/about`);
    const t0 = Date.now();
    await page.goto(`${BASE}/dashboards/${dash.id}`);
    await page.waitForFunction(() => {
      const w = document.querySelectorAll('.widget');
      return w.length > 0 && document.querySelectorAll('.widget .chart svg').length === w.length;
    }, null, { timeout: 60_000, polling: 10 });
    const ms = Date.now() - t0;
    if (i === 0) console.log(`Alert statistics in Chromium, first load (WASM not cached): ${ms} ms`);
    else times.push(ms);
  }
  await shot(page, 'bench-alert-statistics');
  times.sort((a, b) => a - b);
  const p50 = times[Math.floor((times.length - 1) / 2)];
  const max = times[times.length - 1];
  console.log(`Alert statistics in Chromium, navigation to every widget drawn, ${times.length} loads: p50 ${p50} ms, max ${max} ms ` +
    `(target <= ${TARGET_MS} ms: ${max <= TARGET_MS ? 'met' : 'MISSED'})`);
  if (errors.length) console.log(`page errors: ${errors.join('; ')}`);
} finally {
  await browser.close();
}
