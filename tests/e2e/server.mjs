// A tiny static server for the end-to-end tests, plus a fake collector.
//
// Serves /dist, /examples and /www from the repository on 127.0.0.1. Any path under
// /csp/ serves the same file with a strict Content-Security-Policy; /floor/ serves the
// shipped loader beside an empty glue and wasm module, and the renderer's stylesheet (the
// SDK benchmark's floors). The collector routes (/v1/batch, /v1/sites/{site}/campaigns)
// record batches and serve campaign sets that the tests set through /__campaigns/{site};
// /__batches reads what was sent.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
  "img-src 'self' data:; connect-src 'self'";

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ts': 'text/plain; charset=utf-8',
};
const SERVED = ['dist', 'examples', 'www', 'tests/e2e/pages'];

// The floor build: dist/nudge.js unchanged, loading a glue that only instantiates the
// smallest valid wasm module (its 8-byte header) and a `boot` that only hands over. What a
// loader of this shape costs before nudge does any work. /floor/style.css is the
// renderer's stylesheet, for the hand-built modal of pages/show-floor.js.
const FLOOR = {
  'nudge.js': ['text/javascript; charset=utf-8', 'dist/nudge.js'],
  'style.css': ['text/css; charset=utf-8', 'src/web/render/style.css'],
  'nudge_glue.js': ['text/javascript; charset=utf-8',
    'export default async function init({ module_or_path }) {\n' +
    '  await WebAssembly.instantiateStreaming(await module_or_path, {});\n}\n' +
    'export function boot(queue, attrs, done) { done(); }\n', true],
  'nudge_bg.wasm': ['application/wasm', Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), true],
};

/** Starts the server on a free port; resolves to { url, close, state }. */
export async function start() {
  const state = {
    campaigns: new Map(), // site -> { status, body }
    batches: [], // { site, body, events }
    collectorDown: false,
    cspViolations: [],
  };
  const server = createServer((req, res) => handle(req, res, state).catch((e) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(e && e.stack || e));
  }));
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    state,
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); }),
  };
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, type, text, extra = {}) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...extra });
  res.end(text);
}

async function handle(req, res, state) {
  const url = new URL(req.url, 'http://x');
  let path = decodeURIComponent(url.pathname);

  // Test controls.
  const set = path.match(/^\/__campaigns\/([\w.-]+)$/);
  if (set && req.method === 'PUT') {
    state.campaigns.set(set[1], { status: Number(url.searchParams.get('status') || 200), body: await body(req) });
    return send(res, 204, 'text/plain', '');
  }
  if (path === '/__batches') {
    if (req.method === 'DELETE') state.batches.length = 0;
    return send(res, 200, 'application/json', JSON.stringify(state.batches));
  }
  if (path === '/__csp' && req.method === 'POST') {
    state.cspViolations.push(await body(req));
    return send(res, 204, 'text/plain', '');
  }

  // The fake collector.
  if (path.startsWith('/v1/')) {
    if (state.collectorDown) {
      req.socket.destroy();
      return;
    }
    const cors = { 'access-control-allow-origin': req.headers.origin || '*' };
    if (path === '/v1/batch' && req.method === 'POST') {
      const text = await body(req);
      let events = [];
      try {
        const parsed = JSON.parse(text);
        events = parsed.events || [];
        state.batches.push({ site: parsed.site, body: parsed, events });
      } catch {
        state.batches.push({ site: null, body: text, events });
      }
      return send(res, 200, 'application/json', '{"accepted":' + events.length + '}', cors);
    }
    const report = path.match(/^\/v1\/admin\/sites\/([\w.-]+)\/report$/);
    if (report && req.method === 'GET') {
      if (req.headers.authorization !== 'Bearer test-token') {
        return send(res, 401, 'application/json', '{"error":"wrong admin token"}');
      }
      return send(res, 200, 'application/json', JSON.stringify(sampleReport(report[1], url)));
    }
    const live = path.match(/^\/v1\/sites\/([\w.-]+)\/campaigns$/);
    if (live && req.method === 'GET') {
      const c = state.campaigns.get(live[1]);
      // The demo store's own campaigns unless a test set others.
      if (!c && live[1] === 'demo') {
        return send(res, 200, 'application/json', await readFile(join(ROOT, 'www/shop/campaigns.json')), cors);
      }
      if (!c) return send(res, 200, 'application/json', '{"schema":1,"campaigns":[]}', cors);
      return send(res, c.status, 'application/json', c.body, cors);
    }
    return send(res, 404, 'application/json', '{"error":"no such route"}', cors);
  }

  // Browsers ask for it on every page; a 404 would show up as a console error.
  if (path === '/favicon.ico') return send(res, 204, 'image/x-icon', '');

  const floor = FLOOR[(path.match(/^\/floor\/([\w.]+)$/) || [])[1]];
  if (floor) {
    const [type, body, inline] = floor;
    return send(res, 200, type, inline ? body : await readFile(join(ROOT, body)));
  }

  // Static files; /csp/<path> is <path> under a strict policy.
  const headers = {};
  if (path.startsWith('/csp/')) {
    path = path.slice(4);
    headers['content-security-policy'] = CSP + '; report-uri /__csp';
  }
  if (path.endsWith('/')) path += 'index.html';
  const rel = normalize(path).replace(/^[/\\]+/, '');
  if (!SERVED.some((d) => rel === d || rel.startsWith(d + '/'))) {
    return send(res, 404, 'text/plain', 'not served: ' + rel);
  }
  let file = join(ROOT, rel);
  // The SPA example answers every deep link with its shell, as a real SPA host would.
  if (rel.startsWith('examples/spa/') && !(await exists(file))) {
    file = join(ROOT, 'examples/spa/index.html');
  }
  if (!(await exists(file))) return send(res, 404, 'text/plain', 'not found: ' + rel);
  const type = TYPES[extname(file)] || 'application/octet-stream';
  return send(res, 200, type, await readFile(file), headers);
}

async function exists(file) {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

// `node server.mjs` serves for a person: prints the URL and runs until stopped.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s = await start();
  for (const f of (process.argv.slice(2))) {
    const site = f.replace(/^.*\//, '').replace(/\.json$/, '');
    s.state.campaigns.set(site, { status: 200, body: await readFile(f, 'utf8') });
  }
  console.log(`serving ${ROOT} at ${s.url}`);
}

/** A report shaped like the collector's (examples/collector/src/report.rs). */
function sampleReport(site, url) {
  const arm = (variant, visitors, impressions, clicks, conversions, vs) => ({
    variant, impressions: variant === 'control' ? 0 : impressions, holdouts: variant === 'control' ? impressions : 0,
    clicks, dismissals: Math.round(impressions * 0.3), conversions, visitors, converted_visitors: conversions,
    conversion_rate: conversions / visitors, vs_control: vs,
  });
  return {
    site,
    from: Number(url.searchParams.get('from')),
    to: Number(url.searchParams.get('to')),
    campaigns: [{
      campaign_id: 'third-view',
      arms: [
        arm('control', 400, 410, 0, 20, null),
        arm('coupon', 1800, 1900, 260, 135, { lift: 0.5, difference: 0.025, z: 2.2, p_value: 0.028, confidence: 0.972 }),
        arm('free-shipping', 1790, 1880, 210, 98, { lift: 0.095, difference: 0.0047, z: 0.4, p_value: 0.69, confidence: 0.31 }),
      ],
    }],
  };
}
