/**
 * Where a non-streamed chat request allocates: drives `gateway.fetch` N times in process (the
 * bench's config, a fake upstream) under V8's sampling heap profiler and prints the top
 * allocation sites (self bytes per request), with `--include-objects-collected-by-*` so
 * short-lived garbage counts too.
 *
 * Run: `deno run -A docs/perf/alloc_profile.ts [requests=20000] [top=40]`. With a third argument
 * `cpu` it only drives the requests (no heap sampling), for `deno run --cpu-prof`.
 *
 * @module
 */

import { Session } from "node:inspector";
import { gatewayConfig } from "../../tests/bench/gateway_config.ts";
import { benchRequest, CHAT, gatewayFor, INFO, UPSTREAMS } from "../../tests/bench/in_process.ts";

const N = Number(Deno.args[0] ?? 20000);
const TOP = Number(Deno.args[1] ?? 40);
const gateway = gatewayFor(gatewayConfig(8080, UPSTREAMS));
async function one() {
  const res = await gateway.fetch(benchRequest(CHAT), INFO);
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  await res.bytes();
}
for (let i = 0; i < 2000; i++) await one();
if (Deno.args[2] === "cpu") {
  for (let i = 0; i < N; i++) await one();
  Deno.exit(0);
}

const session = new Session();
session.connect();
// deno-lint-ignore no-explicit-any
type Answer = any;
const post = (method: string, params?: object) =>
  new Promise<Answer>((resolve, reject) =>
    session.post(method, params ?? {}, (err: Error | null, r: unknown) => err ? reject(err) : resolve(r))
  );
await post("HeapProfiler.enable");
await post("HeapProfiler.startSampling", {
  samplingInterval: 256,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
for (let i = 0; i < N; i++) await one();
const { profile } = await post("HeapProfiler.stopSampling");

type Node = {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
};
const sites = new Map<string, number>();
// The same bytes charged to the nearest gateway function (src/) on the stack: what Deno and the
// packages allocate on its behalf counts as its own.
const ours = new Map<string, number>();
let total = 0;
(function walk(n: Node, parent: string, owner: string) {
  const f = n.callFrame;
  const url = f.url.replace(/^.*\/(src|node_modules|ext)\//, "$1/");
  const here = `${f.functionName || "(anon)"} ${url}:${f.lineNumber + 1}`;
  const key = url === "" ? `${here} <- ${parent}` : here;
  const mine = url.startsWith("src/") ? here : owner;
  sites.set(key, (sites.get(key) ?? 0) + n.selfSize);
  ours.set(mine, (ours.get(mine) ?? 0) + n.selfSize);
  total += n.selfSize;
  for (const c of n.children) walk(c, url === "" ? parent : here, mine);
})(profile.head, "(root)", "(outside src/)");
console.log(`${(total / N / 1024).toFixed(1)} KB sampled per request over ${N} requests`);
for (const [title, map] of [["allocation sites", sites], ["charged to src/ functions", ours]] as const) {
  console.log(`\n${title} (bytes per request):`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    console.log(`${(v / N).toFixed(0).padStart(6)} B  ${k}`);
  }
}
