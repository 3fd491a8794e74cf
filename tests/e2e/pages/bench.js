// The SDK benchmark page's set-up (tests/e2e/sdk-bench.mjs drives it).
//
// Queues `init` with 20 campaigns of mixed shapes, then adds the script tag exactly as a
// shop would paste it. The URL can say `off` (no script tag: the baseline for the heap
// figure, the same page and data without the SDK), `floor` (the same loader from /floor/,
// which instantiates an empty module and does nothing) and `late` (the tag is added 300 ms
// after the page loaded, on an idle page, instead of while it loads). It records, for the
// harness: when the SDK was ready (a microtask after the loader swapped the queue for the
// module, once booted and the queue replayed), when the wasm was instantiated (the boot
// starts), its memory, and every long task with its start.
(function () {
  'use strict';
  var campaigns = [];
  for (var i = 0; i < 20; i++) {
    var triggers = [
      { count: { event: 'Product Viewed', at_least: 3, within: 'session', same: 'product_id' } },
      { sequence: { first: 'Product Added', then_not: 'Checkout Started', within: (30 + i) + 's' } },
      { all: [{ event: { name: 'Product Viewed', where: { price: { gte: i * 3 }, category: { in: ['shoes', 'bags'] } } } },
        { page: { path_prefix: '/products' } }] },
      { any: [{ exit_intent: true }, { scroll: 75 }] },
      { all: [{ event: 'Page Viewed' }, { time_on_page: i + 's' }] },
    ];
    var audiences = [
      { visitor: 'returning' },
      { cart_value: { gt: 20 } },
      { any: [{ language: 'ko' }, { device: 'mobile' }] },
      { not: { utm: { source: 'newsletter' } } },
    ];
    campaigns.push({
      id: 'campaign-' + i,
      priority: i % 7,
      placement: i % 2 ? { type: 'bar', position: 'top', mode: 'push' } : { type: 'modal', overlay: true },
      content: {
        headline: { en: 'Still thinking about {{product_name}}?', ko: '{{product_name}} 아직 고민 중이세요?' },
        body: 'Use this code today',
        coupon: 'SAVE' + i,
        cta: { label: 'Copy code', action: 'copy' },
        countdown: { minutes: 15 },
        theme: { background: '#111827', text: '#ffffff', accent: '#f59e0b', accent_text: '#111827' },
      },
      trigger: i === 0 ? { event: 'Bench Show' } : triggers[i % 5],
      audience: i === 0 ? undefined : audiences[i % 4],
      caps: { per_session: 1, per_days: { days: 7, max: 3 }, min_gap: '10m', after_dismiss: '3d' },
      variants: [{ id: 'a', weight: 1 }, { id: 'b', weight: 1, content: { headline: 'Last chance on {{product_name}}' } }],
      control: i === 0 ? 0 : 0.1,
      goal: { event: 'Order Completed', within: '7d' },
    });
  }
  var bench = (window.__bench = { long: [], ready: 0, wasmMemory: null });
  // The loader's resource timing entry (when it was requested and when it arrived).
  bench.loader = function () {
    return performance.getEntriesByType('resource').find(function (e) { return /\/nudge\.js$/.test(e.name); });
  };
  try {
    new PerformanceObserver(function (list) {
      list.getEntries().forEach(function (e) { bench.long.push([e.startTime, e.duration]); });
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) { /* no long task timing: the harness reports it missing */ }
  // Runs `fn` in a task of its own once the page has been idle for 300 ms; resolves to the
  // time from the call until a <nudge-root> is in the page and its task is done (nudge
  // renders in the task after the call, a hand-built modal in the same), and the long
  // tasks from then on.
  bench.timed = function (fn) {
    return new Promise(function (ok) {
      setTimeout(function () {
        setTimeout(function () {
          var t = performance.now(), ms = -1;
          var seen = new MutationObserver(function () {
            if (ms < 0 && document.querySelector('nudge-root')) ms = performance.now() - t;
          });
          seen.observe(document.documentElement, { childList: true });
          fn();
          setTimeout(function () {
            seen.disconnect();
            ok({
              ms: ms,
              long: bench.long.filter(function (l) { return l[1] > 50 && l[0] + l[1] >= t; })
                .map(function (l) { return Math.round(l[1]); }),
            });
          }, 100);
        }, 0);
      }, 300);
    });
  };
  // A shop's "Add to cart" button: its click changes its own label and, with nudge, tracks
  // the event that shows the modal. The harness clicks it and reads the interaction's
  // duration (Event Timing: input to the next paint, what INP is made of).
  bench.button = function () {
    var b = document.createElement('button');
    b.id = 'buy';
    b.textContent = 'Add to cart';
    b.style.cssText = 'position:fixed;top:10px;left:10px;width:120px;height:40px';
    b.onclick = function () {
      b.textContent = 'Added!';
      if (window.nudge && window.nudge.track) window.nudge.track('Bench Show', {});
    };
    document.body.appendChild(b);
  };
  bench.events = [];
  try {
    new PerformanceObserver(function (list) {
      list.getEntries().forEach(function (e) { bench.events.push([e.name, e.duration]); });
    }).observe({ type: 'event', durationThreshold: 16, buffered: true });
  } catch (e) { /* no event timing: the harness reports it missing */ }
  function keep(result) {
    var inst = result && (result.instance || result);
    if (inst && inst.exports && inst.exports.memory) {
      bench.wasmMemory = inst.exports.memory;
      bench.instantiated = performance.now(); // the boot starts now
    }
    return result;
  }
  ['instantiateStreaming', 'instantiate'].forEach(function (name) {
    var f = WebAssembly[name];
    if (f) WebAssembly[name] = function () { return f.apply(WebAssembly, arguments).then(keep); };
  });
  var queue = [['init', { site: 'bench', campaigns: { schema: 1, budget: { per_session: 3 }, campaigns: campaigns } }]];
  // The shop's own data (the queued campaigns) stays reachable in both kinds of load, so
  // the heap difference is the SDK's alone.
  bench.queue = queue;
  function asked(flag) { return new RegExp('[?&]' + flag + '\\b').test(location.search); }
  if (asked('off')) return;
  var sdk;
  Object.defineProperty(window, 'nudge', {
    configurable: true,
    get: function () { return sdk || queue; },
    set: function (m) {
      sdk = m;
      // The loader hands the API over once the boot is done and the queue replayed.
      queueMicrotask(function () { bench.ready = performance.now(); });
    },
  });
  var s = document.createElement('script');
  s.async = true;
  s.src = asked('floor') ? '/floor/nudge.js' : '/dist/nudge.js';
  s.dataset.site = 'bench';
  if (!asked('late')) document.head.appendChild(s);
  else addEventListener('load', function () { setTimeout(function () { document.head.appendChild(s); }, 300); });
})();
