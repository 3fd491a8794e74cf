// Types of the ES module entry (`index.js`); the API types live in `nudge.d.ts`.
import type { Nudge, NudgeConfig } from "./nudge";
export * from "./nudge";
/** Loads the wasm once, starts nudge with `config` and resolves to the API. */
export declare function createNudge(config: NudgeConfig, wasm?: string | URL): Promise<Nudge>;
