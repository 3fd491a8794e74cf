// The browser SDK benchmark (`cargo xtask bench`): prints one JSON line of figures.
//
// Drives headless Chromium over tests/e2e/pages/bench.html (20 campaigns queued, the script
// tag added as a shop would) in fresh contexts, so every load is a first visit:
// - init_ms_20: from the script start (the loader downloaded, so it runs) to the SDK being
//   ready (glue and wasm fetched, compiled, instantiated; `init` with the 20 campaigns and
//   the queue replayed); init_request_ms_20 counts from the request for nudge.js instead,
//   boot_ms_20 only the boot (from the instantiation on: `init` and the replay, over the
//   tasks it takes). Medians.
// - init_floor_ms: the same, for the same loader fetching a glue that instantiates an empty
//   wasm module and boots nothing (/floor/): what the loader's two requests and an
//   instantiation cost on this machine before nudge does any work. init_idle_ms_20 and
//   init_floor_idle_ms: both again with the tag added once the page is loaded and idle.
// - long_tasks_4x: tasks over 50 ms seen by the page from the request for nudge.js through
//   ready, 20 tracks and the show, each call in its own task as a shopper's clicks would
//   make them, with the CPU throttled 4× (DevTools emulation); the most in any one load
//   (long_task_ms_4x lists them all).
// - heap_kib: JS heap with the SDK minus the same page without it (both after a forced
//   GC), plus the wasm linear memory. Median.
// - track_ms: `nudge.track()` of an ordinary event (decide against 20 campaigns, nothing
//   shown), the mean of 50 calls, median over batches; show_ms: the `track()` whose
//   campaign renders the bottom modal, from the call until the modal is in the page (nudge
//   renders in the task after the call), on an idle page; show_ms_4x the same under 4×
//   throttling.
// - show_floor_ms, show_floor_ms_4x: the same modal built by hand in plain JS with the
//   renderer's stylesheet (pages/show-floor.js) on the page without the SDK: what the
//   browser alone spends on it. long_tasks_4x_show_floor: how many of those calls made a
//   task over 50 ms, worst load.
// - click_ms_4x: a shop's button clicked under 4× throttling; its handler changes its
//   label and tracks the event that shows the modal. The interaction's duration (Event
//   Timing, input to the next paint: what INP is made of), median. click_floor_ms_4x: the
//   same click on the page without the SDK.
import { chromium } from 'playwright-core';
import { start } from './server.mjs';
import { ARGS } from './lib.mjs';

const LOADS = Number(process.env.NUDGE_SDK_LOADS || 11);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

const server = await start();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ARGS,
});

// Unthrottled: times `track` (50 calls in a row, four times) and the show.
async function measure(query) {
  const b = window.__bench;
  if (query === 'off') return {};
  const loader = b.loader();
  if (query) return { init: b.ready - loader.responseEnd };
  const tracks = [];
  for (let batch = 0; batch < 4; batch++) {
    const t = performance.now();
    for (let i = 0; i < 50; i++) {
      window.nudge.track('Product Viewed', { product_id: 'p' + (i % 23), price: 20 + i, category: 'bags' });
    }
    tracks.push((performance.now() - t) / 50);
  }
  const show = (await b.timed(() => window.nudge.track('Bench Show', {}))).ms;
  return {
    init: b.ready - loader.responseEnd,
    request: b.ready - loader.startTime,
    boot: b.ready - b.instantiated,
    tracks,
    show,
    shown: document.querySelectorAll('nudge-root').length,
    wasm: b.wasmMemory ? b.wasmMemory.buffer.byteLength : null,
  };
}

// Throttled: what a shopper's page does, one call per task (a click, a dataLayer push):
// 20 tracks, then the one that shows the modal. A loop of calls in one task would be the
// benchmark's own long task, not the SDK's.
async function shop() {
  const b = window.__bench;
  const loader = b.loader();
  const task = () => new Promise((ok) => setTimeout(ok, 0));
  for (let i = 0; i < 20; i++) {
    await task();
    window.nudge.track('Product Viewed', { product_id: 'p' + i, price: 20 + i, category: 'bags' });
  }
  const show = await b.timed(() => window.nudge.track('Bench Show', {}));
  return {
    init: b.ready - loader.responseEnd,
    show: show.ms,
    shown: document.querySelectorAll('nudge-root').length,
    wasm: b.wasmMemory.buffer.byteLength,
  };
}

// A click on the shop's button (bench.button) once the page is idle, throttled 4×; resolves
// to the longest duration Event Timing gave the click's events.
async function click(page, cdp) {
  await page.evaluate(() => window.__bench.button());
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  await page.waitForTimeout(500);
  await page.click('#buy');
  await page.waitForTimeout(600);
  return page.evaluate(() => Math.max(...window.__bench.events
    .filter(([n]) => ['pointerdown', 'pointerup', 'mousedown', 'mouseup', 'click'].includes(n))
    .map(([, d]) => d)));
}

// The hand-built modal, on the page without the SDK (throttled or not).
async function floorShow() {
  const r = await window.__bench.timed(await window.__showFloor);
  return { show: r.ms, showLong: r.long, shown: document.querySelectorAll('nudge-root').length };
}

// `query` is one of bench.js's: '' (the SDK), 'off', 'floor', 'late', 'floor&late'.
// `showFloor` (with 'off') times the hand-built modal instead.
async function load({ query = '', throttle = 1, showFloor = false, clicked = false } = {}) {
  const off = query === 'off';
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  const cdp = await ctx.newCDPSession(page);
  if (throttle !== 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  await page.goto(server.url + '/tests/e2e/pages/bench.html' + (query ? '?' + query : ''));
  // Both kinds of load wait the same way: Playwright's waiting script lives in the page's
  // heap too, and must not count as the SDK's.
  await page.waitForFunction((off) => off || window.__bench.ready > 0, off, { timeout: 30_000 });
  if (clicked) {
    const out = { click: await click(page, cdp) };
    out.shown = await page.evaluate(() => document.querySelectorAll('nudge-root').length);
    return close(out);
  }
  if (showFloor) await page.addScriptTag({ url: '/tests/e2e/pages/show-floor.js' });
  const out = await page.evaluate(showFloor ? floorShow : throttle === 1 ? measure : shop, query);
  // Long tasks are reported after they end: give the observer a moment.
  await page.waitForTimeout(100);
  // Only the tasks from the request for nudge.js on: the page's own navigation task before
  // it is long under 4× throttling with or without the SDK.
  out.long = await page.evaluate(() => {
    const loader = window.__bench.loader();
    return window.__bench.long.filter(([start, d]) => d > 50 && loader && start >= loader.startTime).map(([, d]) => Math.round(d));
  });
  await cdp.send('HeapProfiler.collectGarbage');
  out.heap = (await cdp.send('Runtime.getHeapUsage')).usedSize;
  return close(out);

  // Every kind of load ends here: no console error, and the modal shown where one should be.
  async function close(out) {
    await ctx.close();
    if (errors.length) throw new Error('console errors on the benchmark page: ' + errors.join('; '));
    if ((query === '' || showFloor) && out.shown !== 1) throw new Error(`the show rendered ${out.shown} roots, expected 1`);
    if (clicked && !(out.click > 0)) throw new Error('no Event Timing entry for the click');
    if (query === '' && !clicked && !out.wasm) throw new Error('the wasm memory was not seen');
    return out;
  }
}

try {
  await load(); // warm-up: Chromium's own caches, not the page's (each load has a fresh context)
  const on = [], off = [], floor = [], late = [], floorLate = [], shows = [], slow = [], slowShows = [];
  const clicks = [], floorClicks = [];
  for (let i = 0; i < LOADS; i++) {
    on.push(await load());
    off.push(await load({ query: 'off' }));
    floor.push(await load({ query: 'floor' }));
    late.push(await load({ query: 'late' }));
    floorLate.push(await load({ query: 'floor&late' }));
    shows.push(await load({ query: 'off', showFloor: true }));
  }
  for (let i = 0; i < 5; i++) {
    slow.push(await load({ throttle: 4 }));
    slowShows.push(await load({ query: 'off', showFloor: true, throttle: 4 }));
    clicks.push(await load({ clicked: true }));
    floorClicks.push(await load({ query: 'off', clicked: true }));
  }
  const heap = on.map((r, i) => (r.heap - off[i].heap + r.wasm) / 1024);
  console.log(JSON.stringify({
    init_ms_20: round(median(on.map((r) => r.init))),
    init_request_ms_20: round(median(on.map((r) => r.request))),
    boot_ms_20: round(median(on.map((r) => r.boot))),
    init_floor_ms: round(median(floor.map((r) => r.init))),
    init_idle_ms_20: round(median(late.map((r) => r.init))),
    init_floor_idle_ms: round(median(floorLate.map((r) => r.init))),
    init_ms_20_4x: round(median(slow.map((r) => r.init))),
    long_tasks_4x: Math.max(...slow.map((r) => r.long.length)),
    long_task_ms_4x: slow.flatMap((r) => r.long),
    heap_kib: Math.round(median(heap)),
    js_heap_kib: Math.round(median(on.map((r, i) => (r.heap - off[i].heap) / 1024))),
    wasm_memory_kib: Math.round(median(on.map((r) => r.wasm / 1024))),
    track_ms: round(median(on.flatMap((r) => r.tracks)), 4),
    show_ms: round(median(on.map((r) => r.show)), 3),
    show_floor_ms: round(median(shows.map((r) => r.show)), 3),
    show_ms_4x: round(median(slow.map((r) => r.show))),
    show_floor_ms_4x: round(median(slowShows.map((r) => r.show))),
    long_tasks_4x_show_floor: Math.max(...slowShows.map((r) => r.showLong.length)),
    click_ms_4x: median(clicks.map((r) => r.click)),
    click_floor_ms_4x: median(floorClicks.map((r) => r.click)),
  }));
} finally {
  await browser.close();
  await server.close();
}
