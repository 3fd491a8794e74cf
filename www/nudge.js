/*! nudge loader: <script async src=".../nudge.js" data-site="..." data-collector="...">.
 * Loads the wasm build beside this file, then replays calls queued in `window.nudge`
 * (`window.nudge = window.nudge || []; nudge.push(["track", "Product Viewed", {...}])`).
 * If WebAssembly is missing, blocked or fails, it warns once and leaves the page alone.
 * No eval, no inline code: it runs under `script-src 'self' 'wasm-unsafe-eval'`. */
(function (w, s) {
  var d = s && s.dataset;
  function no(e) { console.warn("nudge: not started:", e); }
  if (typeof WebAssembly != "object" || !d) return no("no WebAssembly");
  // The wasm is requested at once, beside the glue, not after it: one round trip fewer.
  var wasm = fetch(new URL("nudge_bg.wasm", s.src));
  wasm.catch(function () {}); // a failed request is reported once, through the chain below
  import(new URL("nudge_glue.js", s.src)).then(function (m) {
    return m.default({ module_or_path: wasm }).then(function () {
      // The boot in a task of its own, not in the instantiation's: no long task.
      return new Promise(function (ok) { setTimeout(ok, 0); });
    }).then(function () {
      // The queue as it is now; boot takes a few tasks, then hands the API over.
      m.boot(w.nudge, { site: d.site, collector: d.collector, campaignsUrl: d.campaigns },
        function () { w.nudge = m; });
    });
  }).catch(no);
})(window, document.currentScript);
