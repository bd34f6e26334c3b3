/**
 * Sanity checks around a bench run: before it, every target answers each request kind correctly
 * (a fast wrong answer is not a result); after it, the gateway's metrics and access log show that
 * it really did the work with those features on.
 *
 * @module
 */

import type { Target } from "./scenarios.ts";
import { SCENARIOS } from "./scenario_list.ts";

/** Sends one request of each kind to each target; throws on a wrong answer. */
export async function preflight(targets: readonly Target[]): Promise<void> {
  const kinds = SCENARIOS.filter((s) => s.kind === "requests" || s.kind === "stream");
  for (const t of targets) {
    // Client dialects are the gateway's: the upstream and the bare proxy speak OpenAI only.
    for (const s of kinds.filter((k) => k.compare === undefined || t.name === "gateway")) {
      const res = await fetch(t.base + s.path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: s.body,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      const expected = s.expect ??
        (s.kind === "stream" ? "[DONE]" : s.path.includes("embeddings") ? '"embedding"' : '"choices"');
      if (res.status !== 200 || !text.includes(expected)) {
        throw new Error(`${t.name} answered ${s.label} with ${res.status}: ${text.slice(0, 300)}`);
      }
    }
  }
}

async function countLines(path: string): Promise<number> {
  let n = 0;
  try {
    using file = await Deno.open(path);
    for await (const chunk of file.readable) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) n++;
    }
  } catch { /* no log */ }
  return n;
}

/** Requests counted by the gateway's `/metrics` and lines in its log file. */
export async function servedRequests(
  base: string,
  log: string,
): Promise<{ metricRequests: number; logLines: number }> {
  let metricRequests = 0;
  try {
    const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    for (const line of text.split("\n")) {
      if (line.startsWith("dairouter_requests_total{")) {
        metricRequests += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
    }
  } catch { /* metrics unavailable: reported as 0 */ }
  return { metricRequests, logLines: await countLines(log) };
}
