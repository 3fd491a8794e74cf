// nudge as an ES module (npm): `import { createNudge } from "nudge"`.
// Loads the wasm once (from beside this file unless `wasm` says otherwise), starts nudge
// with `config` and resolves to the API. The script-tag loader is `nudge.js`.
import load, * as api from "./nudge_glue.js";

let loading;

export function createNudge(config, wasm) {
  loading = loading || load({ module_or_path: wasm || new URL("nudge_bg.wasm", import.meta.url) });
  return loading.then(function () {
    api.init(config);
    return api;
  });
}

export * from "./nudge_glue.js";
