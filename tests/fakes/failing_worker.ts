/**
 * A worker of `server.workers` (`main.ts`'s `runWorker`) that fails on purpose, for the
 * supervisor's tests through a real process (`failing_gateway.ts`). Worker 1 watches the file
 * named by `DAIROUTER_TEST_FAIL_FILE`; once it holds `throw`, the worker removes it and throws an
 * uncaught error; once it holds `close`, the worker removes it and ends itself without a word
 * (`self.close()`), as a worker gone some other way does; once it holds `hang`, the worker removes
 * it and blocks its event loop for good (waiting, not spinning: the machine keeps its cores); once
 * it holds `stall`, the worker removes it and blocks its event loop for 1.5 s, once.
 * Fresh workers in its place watch the file again.
 *
 * @module
 */

import { runWorker } from "../../main.ts";
import type { ToWorker } from "../../src/cluster/workers.ts";

const file = Deno.env.get("DAIROUTER_TEST_FAIL_FILE");

/** Looks for an order every 50 ms; acts on the first one. */
async function watch(): Promise<void> {
  const order = await Deno.readTextFile(file!).catch(() => "");
  if (order === "") return void setTimeout(watch, 50);
  await Deno.remove(file!);
  if (order === "close") return (globalThis as unknown as { close(): void }).close();
  const cell = new Int32Array(new SharedArrayBuffer(4));
  if (order === "hang") {
    return void setTimeout(() => {
      for (;;) Atomics.wait(cell, 0, 0, 1000);
    });
  }
  if (order === "stall") {
    return void setTimeout(() => {
      Atomics.wait(cell, 0, 0, 1500);
      void watch();
    });
  }
  setTimeout(() => {
    throw new Error("worker failed on purpose (test)");
  });
}

self.addEventListener("message", (event) => {
  const m = (event as MessageEvent).data as ToWorker;
  if (m?.t === "init" && m.index === 0 && file !== undefined) void watch();
});
await runWorker();
