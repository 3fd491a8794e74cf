// The beacon pipeline against the real collector (`nudge-collector`, SQLite): the events a
// page's `nudge.on('event')` saw are exactly the events stored, compared as sets of ids read
// back from the SQLite file; the pagehide beacon; the collector down for 30 s, and down at
// pagehide (at-least-once: the events come with the next page); 500s and 429s from a proxy
// in front of it, `Retry-After` timed at the proxy; a batch sent twice counted as duplicates.
// Page time runs on Playwright's fake clock wherever the SDK only waits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { ARGS, open, recordEvents, loaded } from './lib.mjs';
import { Collector, startProxy, batchIds, until } from './collector.mjs';

const SITE = 'e2e';
/** One campaign, shown on the first page view of a session: a `Campaign Shown` per visitor. */
const CAMPAIGNS = {
  schema: 1,
  campaigns: [{
    id: 'welcome',
    placement: { type: 'bar', position: 'bottom', mode: 'overlay' },
    trigger: { event: 'Page Viewed' },
    content: { headline: 'Welcome to the shop', cta: { label: 'Shop now', action: 'close' } },
  }],
};
const REFUSED = /Failed to load resource: net::ERR_(CONNECTION_REFUSED|EMPTY_RESPONSE|CONNECTION_RESET)/;
const STATUS = (s) => new RegExp(`Failed to load resource: the server responded with a status of ${s}`);
const OUTBOX = `nudge_1_${SITE}_outbox`; // the persisted queue (src/web/store.rs)

let browser;
let collector;
let proxy;

before(async () => {
  collector = await Collector.create();
  await collector.start();
  proxy = await startProxy(() => collector.url);
  await collector.publish(SITE, [collector.url, proxy.url], CAMPAIGNS);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (proxy) await proxy.close();
  if (collector) await collector.close();
});

const sorted = (a) => [...a].sort();

/** A page that records what nudge emits, on the fake clock, loaded from `base`. */
async function nudgePage(base, opts = {}) {
  const page = await open({ browser }, opts);
  await page.clock.install();
  await recordEvents(page);
  await page.goto(base + '/index.html');
  await page.clock.runFor(500);
  await loaded(page);
  return page;
}

/** `nudge.track` calls from the page: a product viewed twice, then added. */
async function shop(page, tag) {
  await page.evaluate((t) => {
    window.nudge.track('Product Viewed', { product_id: 'p-' + t, price: 29000 });
    window.nudge.track('Product Viewed', { product_id: 'p-' + t, price: 29000 });
    window.nudge.track('Product Added', { product_id: 'p-' + t, price: 29000, quantity: 1 });
  }, tag);
}

/** Ids (and names) of every event the page's `nudge.on('event')` callback received. */
async function emitted(page) {
  return page.evaluate(() => window.__nudge.map((e) => ({ id: e.id, name: e.name })));
}

/**
 * Waits (bounded) until every id is stored; returns the ids of every row stored after row
 * `mark` (one test runs at a time, so these are the test's own). `step` runs between
 * looks (the page's fake clock).
 */
async function arrived(mark, ids, step) {
  const got = await until(async () => {
    const rows = await collector.stored(SITE, mark);
    const have = new Set(rows.map((r) => r.event_id));
    return ids.every((i) => have.has(i)) && rows.map((r) => r.event_id);
  }, { tries: 80, every: 100, step });
  return got || (await collector.stored(SITE, mark)).map((r) => r.event_id);
}

/** The persisted queue, read in the page (null once every event was confirmed). */
async function outbox(page) {
  return page.evaluate((k) => localStorage.getItem(k), OUTBOX);
}

test('events from a page reach the database: the ids the page saw are the ids stored', async () => {
  const mark = await collector.mark();
  const page = await nudgePage(proxy.url);
  await shop(page, 'a');
  const seen = await emitted(page);
  assert.deepEqual(sorted(seen.map((e) => e.name)),
    sorted(['Page Viewed', 'Campaign Shown', 'Product Viewed', 'Product Viewed', 'Product Added']));
  const ids = seen.map((e) => e.id);
  await page.clock.runFor(5_500); // the outbox sends once its oldest event is 5 s old
  const stored = await arrived(mark, ids);
  assert.deepEqual(sorted(stored), sorted(ids), 'stored ids = emitted ids');
  await proxy.settled();
  // Names and the campaign survive the trip.
  const rows = await collector.stored(SITE, mark);
  for (const e of seen) assert.equal(rows.find((r) => r.event_id === e.id).name, e.name);
  assert.equal(rows.find((r) => r.name === 'Campaign Shown').campaign_id, 'welcome');
  assert.equal(new Set(rows.map((r) => r.anon_id)).size, 1, 'one visitor');
  // One fetch carried them, answered 200 with every event accepted.
  const posts = proxy.batches().filter((b) => batchIds(b).some((i) => ids.includes(i)));
  assert.equal(posts.length, 1, 'one batch');
  assert.equal(posts[0].status, 200);
  assert.equal(posts[0].headers['sec-fetch-mode'], 'cors', 'sent by fetch');
  assert.deepEqual(JSON.parse(posts[0].answer), { accepted: ids.length, duplicates: 0, rejected: 0 });
  assert.equal(await until(async () => (await outbox(page)) === null), true, 'the confirmed batch left the queue');
  // The report API sees the impression (its window is on the server's clock; the page's
  // fake clock runs ahead of it, by less than the 5 s that would count as skew).
  const report = await collector.admin('GET', `/v1/admin/sites/${SITE}/report?from=0&to=${Date.now() + 60_000}`);
  const welcome = report.campaigns.find((c) => c.campaign_id === 'welcome');
  assert.ok(welcome && welcome.arms.some((a) => a.impressions >= 1), JSON.stringify({ report, rows, now: Date.now() }));
  console.log(`# page → collector: ${ids.length} ids emitted, ${stored.length} stored, equal sets`);
  await page.done();
});

test('pagehide: the beacon delivers what was queued; the next page confirms it once more', async () => {
  const mark = await collector.mark();
  const page = await nudgePage(proxy.url);
  await shop(page, 'b');
  const ids = (await emitted(page)).map((e) => e.id);
  const from = proxy.log.length;
  // Nothing was due yet (the fake clock stood still): only the beacon can carry them.
  await page.goto(proxy.url + '/away.html');
  const stored = await arrived(mark, ids);
  assert.deepEqual(sorted(stored), sorted(ids), 'stored ids = emitted ids');
  const sends = proxy.log.slice(from).filter((e) => e.method === 'POST' && e.path === '/v1/batch');
  assert.equal(sends.length, 1, 'one beacon for pagehide and visibilitychange together');
  assert.equal(sends[0].headers['sec-fetch-mode'], 'no-cors', 'sent by navigator.sendBeacon');
  assert.deepEqual(sorted(batchIds(sends[0])), sorted(ids));
  // A beacon's fate is unknowable, so its events stay queued until a send is confirmed:
  // the next page of the site resends them, and the collector counts them as duplicates.
  const kept = JSON.parse((await outbox(page)) || '{"q":[]}').q.map((q) => q[0]);
  assert.deepEqual(sorted(kept), sorted(ids), 'still persisted after the beacon');
  await page.goto(proxy.url + '/index.html');
  await page.clock.runFor(500);
  await loaded(page);
  const again = await until(() => proxy.log.slice(from).filter((e) => e.path === '/v1/batch').slice(1)
    .find((b) => b.status === 200 && ids.every((i) => batchIds(b).includes(i))),
  { tries: 40, step: () => page.clock.runFor(500) });
  assert.ok(again, 'the next page resent the beaconed events');
  const answer = JSON.parse(again.answer);
  assert.equal(answer.duplicates, ids.length, 'counted as duplicates');
  const next = (await emitted(page)).map((e) => e.id);
  assert.deepEqual(sorted(await arrived(mark, next)), sorted([...ids, ...next]), 'each stored once');
  assert.equal(await until(async () => (await outbox(page)) === null), true, 'confirmed: the queue is empty');
  console.log(`# pagehide: beacon carried ${ids.length} ids, all stored; next page resent them: ${JSON.stringify(answer)}`);
  await page.done();
});

test('collector down at pagehide: the events arrive after the next page load', async () => {
  const mark = await collector.mark();
  const page = await nudgePage(collector.url, { allow: [REFUSED] });
  await shop(page, 'c');
  const ids = (await emitted(page)).map((e) => e.id);
  await collector.stop();
  await page.goto('about:blank'); // pagehide: the beacon meets a closed port
  await page.waitForTimeout(300);
  await collector.start(); // same port, same file
  assert.deepEqual(await collector.stored(SITE, mark), [], 'the beacon was lost');
  await page.goto(collector.url + '/index.html');
  await page.clock.runFor(500);
  await loaded(page);
  const next = (await emitted(page)).map((e) => e.id);
  const stored = await arrived(mark, [...ids, ...next], () => page.clock.runFor(500));
  assert.deepEqual(sorted(stored), sorted([...ids, ...next]), 'both pages\' events, once each');
  const m = await collector.metrics();
  assert.equal(m.nudge_events_ingested_total, ids.length + next.length);
  assert.equal(m.nudge_events_duplicate_total, 0);
  assert.equal(await until(async () => (await outbox(page)) === null), true, 'confirmed: the queue is empty');
  console.log(`# down at pagehide: ${ids.length} ids lost by the beacon, all ${ids.length} stored after the next page load (+${next.length} of its own)`);
  await page.done();
});

test('collector down for 30 s, then back on the same port and file: every event arrives once', async () => {
  const mark = await collector.mark();
  const page = await nudgePage(collector.url, { allow: [REFUSED] });
  await shop(page, 'd1');
  await collector.stop();
  const failed = [];
  page.on('requestfailed', (r) => { if (r.url().endsWith('/v1/batch')) failed.push(r.failure().errorText); });
  // 30 s of page time with the collector down; the shopper keeps shopping meanwhile.
  for (let s = 1; s <= 30; s++) {
    await page.clock.runFor(1_000);
    await page.waitForTimeout(20);
    if (s === 10) await shop(page, 'd2');
    if (s === 20) await shop(page, 'd3');
  }
  const ids = (await emitted(page)).map((e) => e.id);
  assert.equal(ids.length, 11, 'page view, impression, 3 × 3 tracked');
  assert.ok(failed.length >= 3, `retried while down: ${failed.length} failed sends (${failed[0]})`);
  await collector.start();
  // Back-off tops out at 60 s of page time; this allows 80.
  const stored = await arrived(mark, ids, () => page.clock.runFor(1_000));
  assert.deepEqual(sorted(stored), sorted(ids), 'stored ids = emitted ids');
  const m = await collector.metrics();
  assert.equal(m.nudge_events_ingested_total, ids.length, 'each stored once');
  assert.equal(m.nudge_events_duplicate_total, 0, 'none sent twice');
  console.log(`# down 30 s: ${failed.length} failed sends (${failed[0]}), ${ids.length} ids emitted, ${stored.length} stored, 0 duplicates`);
  await page.done();
});

test('500s and a 429 for a while, then recovery: everything arrives once', async () => {
  const plan = [
    { status: 500 }, { status: 500 }, { status: 429, headers: { 'retry-after': '1' } }, { status: 500 },
  ];
  let n = 0;
  proxy.inject = (e) => (e.path === '/v1/batch' && n < plan.length ? plan[n++] : null);
  try {
    const mark = await collector.mark();
    const page = await nudgePage(proxy.url, { allow: [STATUS('(500|429)')] });
    const from = proxy.log.length;
    await shop(page, 'e1');
    await page.clock.runFor(5_500);
    await shop(page, 'e2'); // queued while the collector fails
    const ids = (await emitted(page)).map((e) => e.id);
    const stored = await arrived(mark, ids, () => page.clock.runFor(1_000));
    assert.deepEqual(sorted(stored), sorted(ids), 'stored ids = emitted ids');
    await proxy.settled();
    const sends = proxy.log.slice(from).filter((e) => e.path === '/v1/batch');
    assert.deepEqual(sends.slice(0, 4).map((e) => e.status), [500, 500, 429, 500]);
    const ok = sends.filter((e) => e.status === 200);
    const accepted = ok.reduce((a, e) => a + JSON.parse(e.answer).accepted, 0);
    const duplicates = ok.reduce((a, e) => a + JSON.parse(e.answer).duplicates, 0);
    assert.equal(accepted, ids.length, 'each accepted once');
    assert.equal(duplicates, 0);
    console.log(`# 500/429: ${sends.length} sends (${sends.map((e) => e.status).join(' ')}), ${ids.length} ids emitted, ${stored.length} stored, ${accepted} accepted, ${duplicates} duplicates`);
    await page.done();
  } finally {
    proxy.inject = null;
  }
});

test('429 with Retry-After: 2 is honoured: the next attempt comes no sooner than 2 s later', async () => {
  let n = 0;
  proxy.inject = (e) => (e.path === '/v1/batch' && n++ === 0 ? { status: 429, headers: { 'retry-after': '2' } } : null);
  try {
    const mark = await collector.mark();
    const page = await nudgePage(proxy.url, { allow: [STATUS(429)] });
    const from = proxy.log.length;
    await shop(page, 'f');
    const ids = (await emitted(page)).map((e) => e.id);
    // The first send comes once the oldest event is 5 s old. Page time is fast-forwarded to
    // 4 s only, then runs as real time, so the send, the 429 and the retry all happen in
    // real time and the gap measured at the proxy is the SDK's own wait (the back-off alone
    // would be 0.25–0.5 s). Fast-forwarding past the send let an early 429 be settled while
    // fake time was still racing ahead, which ate into the measured wait.
    await page.clock.runFor(4_000);
    const sends = () => proxy.log.slice(from).filter((e) => e.path === '/v1/batch');
    assert.equal(sends().length, 0, 'nothing sent before the oldest event is 5 s old');
    await page.clock.resume();
    await until(() => sends().length >= 2, { tries: 80 });
    const [first, second] = sends();
    assert.equal(first.status, 429);
    assert.ok(second, 'retried');
    const gap = second.at - first.at;
    assert.ok(gap >= 2_000, `retried ${gap} ms after the 429`);
    assert.ok(gap < 4_000, `not much later either: ${gap} ms`);
    const stored = await arrived(mark, ids);
    assert.deepEqual(sorted(stored), sorted(ids));
    await proxy.settled();
    assert.equal(second.status, 200, 'the retry delivered them');
    console.log(`# 429 Retry-After: 2: retried ${gap} ms after the 429, ${stored.length}/${ids.length} stored`);
    await page.done();
  } finally {
    proxy.inject = null;
  }
});

test('the same batch sent twice: stored once, the second answer and /metrics count duplicates', async () => {
  const mark = await collector.mark();
  const page = await nudgePage(proxy.url);
  await shop(page, 'g');
  const ids = (await emitted(page)).map((e) => e.id);
  await page.clock.runFor(5_500);
  await arrived(mark, ids);
  await proxy.settled();
  await page.done();
  const batch = proxy.batches().find((b) => b.status === 200 && batchIds(b).includes(ids[0]));
  assert.deepEqual(JSON.parse(batch.answer), { accepted: ids.length, duplicates: 0, rejected: 0 });
  const before = await collector.metrics();
  const r = await fetch(collector.url + '/v1/batch', {
    method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: batch.body,
  });
  assert.equal(r.status, 200);
  const answer = await r.json();
  assert.deepEqual(answer, { accepted: 0, duplicates: ids.length, rejected: 0 });
  const after = await collector.metrics();
  assert.equal(after.nudge_events_duplicate_total - before.nudge_events_duplicate_total, ids.length);
  assert.equal(after.nudge_events_ingested_total - before.nudge_events_ingested_total, 0);
  assert.equal(after.nudge_batches_total - before.nudge_batches_total, 1);
  const stored = (await collector.stored(SITE, mark)).map((r) => r.event_id);
  assert.deepEqual(sorted(stored), sorted(ids), 'stored once');
  console.log(`# replayed batch of ${ids.length}: ${JSON.stringify(answer)}; duplicates metric +${after.nudge_events_duplicate_total - before.nudge_events_duplicate_total}`);
});
