/**
 * The worker that loads a configuration off the main thread, for reloads: parsing a file at the
 * size limit takes about a second of CPU, which on the main thread would hold every request for
 * that long. It receives one {@linkcode LoadRequest}, answers one {@linkcode LoadReply} and is then
 * terminated by its owner (`reload.ts`), which also frees whatever the parse allocated.
 *
 * `main.ts` starts it as `new Worker(new URL("./src/config/load_worker.ts", import.meta.url))`, a
 * form `deno compile` can embed (the file is also named with `--include`).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { ConfigError, loadConfigFile, type LoadResult } from "./load.ts";
import type { ConfigProblem } from "./error.ts";

/** What the worker is asked to load. */
export interface LoadRequest {
  readonly path: string;
  readonly env: Readonly<Record<string, string>>;
  readonly maxBytes?: number;
}

/** The worker's one answer: the loaded configuration, a `ConfigError`'s parts, or another failure. */
export type LoadReply =
  | { readonly ok: true; readonly result: LoadResult }
  | {
    readonly ok: false;
    readonly source: string;
    readonly problems: readonly ConfigProblem[];
    readonly watched?: readonly string[];
  }
  | { readonly ok: false; readonly message: string };

self.onmessage = async (event: MessageEvent<LoadRequest>) => {
  const { path, env, maxBytes } = event.data;
  let reply: LoadReply;
  try {
    const result = await loadConfigFile(path, env, maxBytes === undefined ? {} : { maxBytes });
    reply = { ok: true, result };
  } catch (error) {
    reply = error instanceof ConfigError
      ? { ok: false, source: error.source, problems: error.problems, watched: error.watched }
      : { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  self.postMessage(reply);
};
