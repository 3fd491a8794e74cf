// The real collector for the end-to-end tests: `nudge-collector` (the `--profile server`
// build that `cargo xtask test` makes; `NUDGE_COLLECTOR` names another binary) on
// 127.0.0.1 with a temporary SQLite file and an admin token, serving `dist/` and
// `tests/e2e/pages/collector/` as static files; its admin API; what it stored, read with
// the `sqlite3` command; its /metrics; and a small proxy in front of it that records every
// request (with its time) and can answer batches with injected statuses.
import { spawn, execFile } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './server.mjs';

/** The binary under test. */
export const BIN = process.env.NUDGE_COLLECTOR
  || join(process.env.CARGO_TARGET_DIR || join(ROOT, 'target'), 'server', 'nudge-collector');

const STARTUP_MS = 15_000;
const STOP_MS = 15_000;

/**
 * A collector process. `start()` launches it (on `port`, 0 the first time: any free port,
 * then the same one again), `stop()` sends SIGTERM and waits for the exit.
 */
export class Collector {
  constructor({ dir, token }) {
    this.dir = dir;
    this.db = join(dir, 'nudge.db');
    this.token = token;
    this.port = 0;
    this.child = null;
    this.log = '';
  }

  /** A fresh temporary directory and token; not started yet. */
  static async create() {
    if (!existsSync(BIN)) {
      throw new Error(`${BIN} is missing: cargo build --profile server -p nudge-collector`);
    }
    const dir = await mkdtemp(join(tmpdir(), 'nudge-e2e-'));
    return new Collector({ dir, token: 'e2e-' + Math.random().toString(36).slice(2) });
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    if (this.child) throw new Error('the collector is already running');
    const env = { ...process.env, NUDGE_ADMIN_TOKEN: this.token, RUST_LOG: 'warn' };
    for (const k of ['NUDGE_DB', 'NUDGE_LISTEN', 'NUDGE_SITES', 'NUDGE_CLICKHOUSE']) delete env[k];
    const child = spawn(BIN, [
      '--db', this.db,
      '--listen', `127.0.0.1:${this.port}`,
      '--static', `/dist=${join(ROOT, 'dist')}`,
      '--static', `/=${join(ROOT, 'tests/e2e/pages/collector')}`,
      // One browser on loopback: the per-IP limit is for the internet.
      '--ip-rate', '1000', '--ip-burst', '5000',
      // A restarted collector must see admin changes at once.
      '--cache-ms', '0',
      '--drain-secs', '2',
    ], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr.on('data', (d) => { this.log = (this.log + d).slice(-20_000); });
    const exited = new Promise((ok) => child.once('exit', (code, sig) => ok({ code, sig })));
    this.exited = exited;
    const addr = await new Promise((ok, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error('the collector did not start in time\n' + this.log)), STARTUP_MS);
      child.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/listening on http:\/\/([\d.]+:\d+)/);
        if (m) {
          clearTimeout(timer);
          ok(m[1]);
        }
      });
      exited.then(({ code, sig }) => {
        clearTimeout(timer);
        fail(new Error(`the collector exited (${code ?? sig}) before listening\n${this.log}`));
      });
    });
    this.port = Number(addr.split(':')[1]);
  }

  /** SIGTERM, then the exit (drained, WAL checkpointed); SIGKILL if it hangs. */
  async stop() {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const timeout = new Promise((ok) => setTimeout(() => ok(null), STOP_MS));
    const r = await Promise.race([this.exited, timeout]);
    if (!r) {
      child.kill('SIGKILL');
      await this.exited;
    }
    this.child = null;
    if (r && r.code !== 0) throw new Error(`the collector exited with ${r.code ?? r.sig}\n${this.log}`);
  }

  async close() {
    await this.stop().catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }

  /** An admin request; the parsed answer (a non-2xx status throws). */
  async admin(method, path, body) {
    const r = await fetch(this.url + path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path} answered ${r.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  }

  /** Registers `site` for `origins` and publishes `doc` as its live campaign set. */
  async publish(site, origins, doc) {
    await this.admin('PUT', `/v1/admin/sites/${site}`, { origins });
    await this.admin('PUT', `/v1/admin/sites/${site}/campaigns`, doc);
    return this.admin('POST', `/v1/admin/sites/${site}/publish`);
  }

  /** Prometheus counters as numbers, by name. */
  async metrics() {
    const text = await (await fetch(this.url + '/metrics')).text();
    const m = {};
    for (const l of text.split('\n')) {
      const [k, v] = l.split(' ');
      if (k && !k.startsWith('#') && v !== undefined) m[k] = Number(v);
    }
    return m;
  }

  /** Rows of `sql` on the SQLite file, through the `sqlite3` command (read-only), as objects. */
  query(sql) {
    return new Promise((ok, fail) => {
      execFile('sqlite3', ['-readonly', '-json', '-cmd', '.timeout 5000', this.db, sql], { timeout: 10_000 },
        (err, stdout, stderr) => {
          if (err) return fail(new Error(`sqlite3: ${err.message} ${stderr}`));
          ok(stdout.trim() ? JSON.parse(stdout) : []);
        });
    });
  }

  /** The newest row so far: `stored(site, mark)` then gives only rows stored after it. */
  async mark() {
    return (await this.query('SELECT COALESCE(MAX(id), 0) AS n FROM events'))[0].n;
  }

  /** Stored events of `site` after row `since`, in order: `{event_id, name, anon_id, campaign_id, ts, ...}`. */
  async stored(site, since = 0) {
    const q = site.replace(/'/g, "''");
    return this.query('SELECT event_id, name, anon_id, campaign_id, ts, client_ts, received_at FROM events '
      + `WHERE site = '${q}' AND id > ${Number(since)} ORDER BY id`);
  }
}

/**
 * A proxy on 127.0.0.1 in front of `target()` (a base URL, asked per request so it
 * follows a restarted collector). Every request is logged as
 * `{at, method, path, headers, body, status, answer}` (`at`: when it arrived, ms);
 * `inject(entry)` may return `{status, headers}` to answer a request itself instead of
 * forwarding it. If the collector cannot be reached the client's connection is cut.
 */
export async function startProxy(target) {
  const p = { log: [], inject: null, url: '' };
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const entry = {
      at: Date.now(), method: req.method, path: req.url, headers: req.headers,
      body: body.toString('utf8'), status: null, answer: null,
    };
    p.log.push(entry);
    const injected = p.inject && p.inject(entry);
    if (injected) {
      entry.status = injected.status;
      entry.answer = JSON.stringify({ error: 'injected by the test proxy' });
      res.writeHead(injected.status, { 'content-type': 'application/json', ...(injected.headers || {}) });
      res.end(entry.answer);
      return;
    }
    const headers = { ...req.headers };
    delete headers.connection;
    delete headers['keep-alive'];
    const up = httpRequest(new URL(req.url, target()), { method: req.method, headers }, (ur) => {
      const out = [];
      ur.on('data', (c) => out.push(c));
      ur.on('end', () => {
        const text = Buffer.concat(out);
        entry.status = ur.statusCode;
        if (/^\/v1\//.test(req.url)) entry.answer = text.toString('utf8');
        const h = { ...ur.headers };
        delete h.connection;
        delete h['keep-alive'];
        delete h['transfer-encoding'];
        h['content-length'] = String(text.length);
        res.writeHead(ur.statusCode, h);
        res.end(text);
      });
      ur.on('error', () => res.socket && res.socket.destroy());
    });
    up.on('error', () => {
      entry.status = 'unreachable';
      if (res.socket) res.socket.destroy();
    });
    up.end(body);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  p.url = `http://127.0.0.1:${server.address().port}`;
  p.close = () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); });
  /** Waits (bounded) until every logged request has been answered. */
  p.settled = () => until(() => p.log.every((e) => e.status !== null), { tries: 50 });
  /** Logged batch posts. */
  p.batches = () => p.log.filter((e) => e.method === 'POST' && e.path === '/v1/batch');
  return p;
}

/** Ids of the events in a logged batch post. */
export function batchIds(entry) {
  try {
    return JSON.parse(entry.body).events.map((e) => e.id);
  } catch {
    return [];
  }
}

/**
 * Waits (bounded: `tries` × `every` ms, calling `step` before each wait, e.g. to run the
 * page's fake clock) until `check()` returns something truthy; returns it, or the last value.
 */
export async function until(check, { tries = 50, every = 100, step } = {}) {
  let v;
  for (let i = 0; i < tries; i++) {
    v = await check();
    if (v) return v;
    if (step) await step(i);
    await new Promise((ok) => setTimeout(ok, every));
  }
  return v;
}
