/**
 * What the young-generation GC did per request, from a `--trace-gc-nvp` log (the gateway's own log
 * file when it ran with `--v8-flags=--trace-gc-nvp`: V8 writes to the same stdout, interleaved
 * lines are skipped). See docs/perf/README.md, round 3.
 *
 * Usage: `deno run --allow-read docs/perf/gc_summary.ts LOG REQUESTS`
 *
 * @module
 */

import { scavenges } from "./repro_request_promotion.ts";

if (import.meta.main) {
  const [log, requestsArg] = Deno.args;
  const requests = Number(requestsArg);
  if (!log || !(requests > 0)) throw new TypeError("Usage: gc_summary.ts LOG REQUESTS");
  const s = scavenges(await Deno.readTextFile(log));
  console.log(
    `${s.count} scavenges; per request: survived ${(s.survived / requests).toFixed(0)} B, ` +
      `promoted ${(s.promoted / requests).toFixed(0)} B`,
  );
}
