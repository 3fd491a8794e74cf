// Times the wasm build of the engine in Node: prints one JSON line for `cargo xtask bench`.
// Figures are medians in process CPU time (the machine is shared: wall time also measures
// the scheduler); wall-clock medians are printed beside them with a `_wall` suffix.
const { performance } = require('node:perf_hooks');
const { Bench } = require(process.argv[2]);

const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; }; // ms

// Runs `prepare` (untimed) then `work` (timed) each round; returns [cpu, wall] medians in
// milliseconds per unit of work, where `work` returns how many units it did.
function measure(rounds, prepare, work) {
  const cpu = [], wall = [];
  for (let r = 0; r < rounds; r++) {
    prepare();
    const c = cpuNow(), w = performance.now();
    const n = work();
    cpu.push((cpuNow() - c) / n);
    wall.push((performance.now() - w) / n);
  }
  return [median(cpu), median(wall)];
}

const b = new Bench();
if (b.campaigns() !== 50) throw new Error(`fixture loaded ${b.campaigns()} campaigns, expected 50`);
// Warm-up, untimed: V8 first runs wasm from its baseline compiler and optimises hot
// functions on background threads, whose CPU time process.cpuUsage() would count.
for (let r = 0; r < 5; r++) { b.prepare_round(); b.decide_round(); b.load(20); }
const [decideCpu, decideWall] = measure(15, () => b.prepare_round(), () => b.decide_round());
const [loadCpu, loadWall] = measure(15, () => {}, () => { b.load(20); return 20; });
console.log(JSON.stringify({
  decide_50_wasm_ns: Math.round(decideCpu * 1e6),
  decide_50_wasm_ns_wall: Math.round(decideWall * 1e6),
  load_50_wasm_us: Math.round(loadCpu * 1e3),
  load_50_wasm_us_wall: Math.round(loadWall * 1e3),
}));
