// Sums layout shifts (CLS without session windows: stricter) into window.__cls, and keeps
// the entries in window.__shifts. Installed as an init script before the page's own.
window.__cls = 0;
window.__shifts = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.hadRecentInput) continue;
    window.__cls += e.value;
    window.__shifts.push({ value: e.value, sources: (e.sources || []).map((s) => s.node && s.node.nodeName) });
  }
}).observe({ type: 'layout-shift', buffered: true });
