// The dashboard reads the collector's report API and shows each arm with its lift.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, open, shot } from './lib.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env.close(); });

test('the dashboard shows impressions, conversions and lift per arm', async () => {
  const page = await open(env);
  await page.goto(env.url('/www/dashboard/index.html?site=demo&token=test-token'));
  await page.waitForSelector('.campaign');
  const rows = await page.$$eval('tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  assert.deepEqual(rows.map((r) => r[0]), ['control', 'coupon', 'free-shipping']);
  assert.equal(rows[1][6], '7.5%');
  assert.match(rows[1][7], /\+50\.0% \(97% sure\)/);
  assert.equal(await page.locator('.win').count(), 1, 'only the significant arm is marked a win');
  await shot(page, 'dashboard-desktop-en');
  await page.done();
});

test('a wrong token is reported, not thrown', async () => {
  const page = await open(env, { allow: [/status of 401/] });
  await page.goto(env.url('/www/dashboard/index.html?site=demo&token=nope'));
  await page.waitForFunction(() => document.getElementById('status').className === 'error');
  assert.match(await page.textContent('#status'), /wrong admin token/);
  await page.done();
});
