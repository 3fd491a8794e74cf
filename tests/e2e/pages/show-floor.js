// The SDK benchmark's show floor: the bench campaign's bottom modal built by hand in plain
// JS, with the renderer's own stylesheet (served at /floor/style.css) and the DOM that
// `render::show` (src/web/render/mod.rs) builds for it, focused the same way. What showing
// this modal costs the browser, before any of nudge's own work. Added by
// tests/e2e/sdk-bench.mjs to the benchmark page without the SDK.
(function () {
  'use strict';
  var css = fetch('/floor/style.css').then(function (r) { return r.text(); });
  function theme(height) {
    return ':host{z-index:2147483000!important;--h:' + height + 'px!important;--r:12px!important;' +
      '--bg:#111827!important;--fg:#ffffff!important;--ac:#f59e0b!important;--at:#111827!important}';
  }
  // Resolves once the stylesheet is here; then `show()` puts the modal up synchronously.
  window.__showFloor = css.then(function (text) {
    return function show() {
      var doc = document;
      function el(parent, tag, cls, text, attrs) {
        var e = doc.createElement(tag);
        if (cls) e.setAttribute('class', cls);
        if (text != null) e.textContent = text;
        for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
        parent.appendChild(e);
        return e;
      }
      var host = doc.createElement('nudge-root');
      host.setAttribute('data-campaign', 'campaign-0');
      host.setAttribute('data-variant', 'a');
      var root = host.attachShadow({ mode: 'closed' });
      var base = new CSSStyleSheet();
      base.replaceSync(text);
      var vars = new CSSStyleSheet();
      vars.replaceSync(theme(0));
      root.adoptedStyleSheets = [base, vars];
      el(root, 'div', 's', null, { 'data-a': 'x' });
      var panel = el(root, 'div', 'p mod', null, {
        lang: 'en', dir: 'ltr', role: 'dialog', 'aria-labelledby': 'h', tabindex: '-1', 'aria-modal': 'true',
      });
      var t = el(panel, 'div', 't');
      el(t, 'p', 'h', 'Still thinking about Linen Shirt?', { id: 'h' });
      el(t, 'p', 'b', 'Use this code today', { id: 'b' });
      panel.setAttribute('aria-describedby', 'b');
      var cd = el(panel, 'p', 'cd', 'Ends in', { role: 'timer' });
      el(cd, 'b', '', '15:00');
      var row = el(panel, 'div', 'c');
      el(row, 'span', 'k', 'SAVE0');
      el(row, 'button', 'cp', 'Copy', { 'data-a': 'cp', 'data-code': 'SAVE0', 'aria-label': 'Copy SAVE0' });
      el(panel, 'button', 'cta', 'Copy code', { 'data-a': 'cp', 'data-code': 'SAVE0' });
      el(panel, 'button', 'x', '\u00d7', { 'data-a': 'x', 'aria-label': 'Close' });
      el(panel, 'span', 'sr', null, { role: 'status' });
      doc.documentElement.appendChild(host);
      vars.replaceSync(theme(panel.offsetHeight));
      panel.focus();
    };
  });
})();
