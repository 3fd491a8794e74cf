// Times the wasm build of the engine in Node: prints one JSON line for `cargo xtask bench`.
const { performance } = require('node:perf_hooks');
const { Bench } = require(process.argv[2]);

const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const b = new Bench();
if (b.campaigns() !== 50) throw new Error(`fixture loaded ${b.campaigns()} campaigns, expected 50`);

const decide = [];
for (let r = 0; r < 15; r++) {
  b.prepare_round();
  const t = performance.now();
  const n = b.decide_round();
  decide.push(((performance.now() - t) * 1e6) / n);
}
const load = [];
for (let r = 0; r < 15; r++) {
  const t = performance.now();
  b.load(10);
  load.push(((performance.now() - t) * 1e3) / 10);
}
console.log(JSON.stringify({ decide_50_wasm_ns: Math.round(median(decide)), load_50_wasm_us: Math.round(median(load)) }));
