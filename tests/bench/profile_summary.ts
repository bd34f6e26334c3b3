/**
 * Summarises a V8 `.cpuprofile` (from `deno task bench --cpu-prof DIR`): self time per function,
 * grouped as ours (`src/`, `main.ts`), Hono, other npm packages, the Deno runtime (`ext:`) and
 * V8/native entries, plus inclusive time of our own functions.
 *
 * Usage: `deno run --allow-read tests/bench/profile_summary.ts FILE.cpuprofile [--top 25]`
 *
 * @module
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a function comes from. */
export type Origin = "ours" | "hono" | "npm" | "deno" | "v8/native";

/** The origin of a profile URL. */
export function originOf(url: string): Origin {
  if (url.includes("/node_modules/") || url.startsWith("npm:")) {
    return url.includes("/hono@") || url.includes("/hono/") ? "hono" : "npm";
  }
  if (url.startsWith("ext:") || url.startsWith("node:")) return "deno";
  if (url.includes("/src/") || url.endsWith("/main.ts")) return "ours";
  return "v8/native";
}

function shortUrl(url: string): string {
  const m = url.match(/node_modules\/\.deno\/([^/]+)\/node_modules\/(.*)$/);
  if (m) return m[2];
  const i = url.indexOf("/src/");
  return i >= 0 ? url.slice(i + 1) : url.replace(/^file:\/\/.*\//, "");
}

/** Self and inclusive milliseconds per function, and per origin. */
export function summarise(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: ProfileNode) =>
    `${n.callFrame.functionName || "(anonymous)"} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const self = new Map<string, { ms: number; origin: Origin }>();
  const inclusive = new Map<string, number>();
  const origins = new Map<Origin, number>();
  // Samples charged to the innermost of our functions on the stack (Deno/npm work it caused).
  const charged = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(profile.samples[i]);
    if (!node || node.callFrame.functionName === "(idle)") continue;
    total += ms;
    const k = key(node);
    const origin = node.callFrame.url ? originOf(node.callFrame.url) : "v8/native";
    const entry = self.get(k) ?? { ms: 0, origin };
    entry.ms += ms;
    self.set(k, entry);
    origins.set(origin, (origins.get(origin) ?? 0) + ms);
    const seen = new Set<string>();
    let innermost: string | undefined;
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (originOf(n.callFrame.url) !== "ours" || !n.callFrame.url) continue;
      const pk = key(n);
      innermost ??= pk;
      if (seen.has(pk)) continue;
      seen.add(pk);
      inclusive.set(pk, (inclusive.get(pk) ?? 0) + ms);
    }
    const c = innermost ?? `(no function of ours on the stack: ${origin})`;
    charged.set(c, (charged.get(c) ?? 0) + ms);
  }
  return { total, self, inclusive, origins, charged };
}

if (import.meta.main) {
  const file = Deno.args[0];
  if (!file) throw new TypeError("Usage: profile_summary.ts FILE.cpuprofile [--top N]");
  const top = Number(Deno.args[Deno.args.indexOf("--top") + 1]) || 25;
  const s = summarise(JSON.parse(await Deno.readTextFile(file)) as CpuProfile);
  const pct = (ms: number) => `${((ms / s.total) * 100).toFixed(1).padStart(5)} %`;
  console.log(`busy (non-idle) time: ${s.total.toFixed(0)} ms`);
  console.log("\nself time by origin:");
  for (const [o, ms] of [...s.origins].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(ms)}  ${o}`);
  console.log(`\ntop ${top} functions by self time:`);
  for (const [k, v] of [...s.self].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    console.log(`  ${pct(v.ms)}  ${v.origin.padEnd(9)} ${k}`);
  }
  console.log(`\ntime charged to the innermost function of ours on the stack (top ${top}):`);
  for (const [k, ms] of [...s.charged].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${pct(ms)}  ${k}`);
  }
  console.log(`\nour functions by inclusive time (top ${top}):`);
  for (const [k, ms] of [...s.inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${pct(ms)}  ${k}`);
  }
}
