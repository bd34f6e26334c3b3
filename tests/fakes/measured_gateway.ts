/**
 * `main.ts` with a memory probe, for tests of what the gateway keeps in memory. Run it with
 * `--v8-flags=--expose-gc`: on SIGUSR2 it collects garbage (twice, so array buffers freed by the
 * first are swept) and prints one line `{"memory":N}`, N being the JS heap in use plus V8's
 * external memory (the bytes of array buffers), in bytes.
 *
 * @module
 */

import { main } from "../../main.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("measured_gateway.ts needs --v8-flags=--expose-gc");
Deno.addSignalListener("SIGUSR2", () => {
  gc();
  gc();
  const { heapUsed, external } = Deno.memoryUsage();
  console.log(JSON.stringify({ memory: heapUsed + external }));
});
Deno.exit(await main(Deno.args, Deno.env.toObject()));
