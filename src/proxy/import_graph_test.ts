/**
 * Issue 12 asks for a request path without import cycles: modules that import each other (type
 * imports included) cannot be read, or changed, one at a time. This walks `src/proxy/`'s own
 * imports and fails naming the first cycle it finds.
 */
import assert from "node:assert/strict";

const DIR = new URL("./", import.meta.url);
const IMPORT = /^(?:import|export)\s[^;]*?\sfrom\s+"\.\/([\w]+\.ts)";/gms;

async function graph(): Promise<Map<string, string[]>> {
  const g = new Map<string, string[]>();
  for await (const e of Deno.readDir(DIR)) {
    if (!e.isFile || !e.name.endsWith(".ts") || e.name.endsWith("_test.ts") || e.name.startsWith("_")) {
      continue;
    }
    const text = await Deno.readTextFile(new URL(e.name, DIR));
    g.set(e.name, [...text.matchAll(IMPORT)].map((m) => m[1]));
  }
  return g;
}

/** A cycle as the list of its modules (first repeated at the end), or `undefined`. */
function findCycle(g: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (m: string): string[] | undefined => {
    if (state.get(m) === "done") return undefined;
    if (state.get(m) === "open") return [...path.slice(path.indexOf(m)), m];
    state.set(m, "open");
    path.push(m);
    for (const d of g.get(m) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    path.pop();
    state.set(m, "done");
    return undefined;
  };
  for (const m of [...g.keys()].sort()) {
    const c = visit(m);
    if (c) return c;
  }
  return undefined;
}

Deno.test("src/proxy's modules import each other without a cycle, type imports included", async () => {
  const g = await graph();
  assert.ok(g.size > 30, `read ${g.size} modules`);
  assert.ok(g.get("runtime.ts")?.includes("runtime_types.ts"), "the import pattern finds imports");
  const cycle = findCycle(g);
  assert.equal(cycle, undefined, `import cycle: ${cycle?.join(" → ")}`);
});

Deno.test("the cycle finder finds a cycle", () => {
  const g = new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts", "d.ts"]], ["d.ts", []]]);
  assert.deepEqual(findCycle(g), ["a.ts", "b.ts", "c.ts", "a.ts"]);
  g.set("c.ts", ["d.ts"]);
  assert.equal(findCycle(g), undefined);
});
