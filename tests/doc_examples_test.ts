/**
 * Keeps every documentation example a real test: `deno test --doc` runs each `@example` block,
 * but `console.assert` only prints "Assertion failed" and passes, so a block must check its
 * result with `node:assert` (which throws) and never with `console.assert`.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const FENCE_OPEN = /^\s*\* ```(?:ts|typescript)\s*$/;
const FENCE_CLOSE = /^\s*\* ```\s*$/;

interface Block {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

async function* sourceFiles(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory && entry.name !== "testdata") yield* sourceFiles(url);
    else if (entry.isFile && entry.name.endsWith(".ts")) yield url;
  }
}

/** The fenced TypeScript blocks inside the JSDoc comments of `text`. */
function docBlocks(file: string, text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE_OPEN.test(lines[i])) continue;
    let j = i + 1;
    while (j < lines.length && !FENCE_CLOSE.test(lines[j])) j++;
    blocks.push({ file, line: i + 1, text: lines.slice(i + 1, j).join("\n") });
    i = j;
  }
  return blocks;
}

async function allBlocks(): Promise<Block[]> {
  const blocks: Block[] = [];
  const files = [new URL("main.ts", ROOT)];
  for await (const f of sourceFiles(new URL("src/", ROOT))) files.push(f);
  for (const f of files) {
    blocks.push(...docBlocks(f.pathname.slice(ROOT.pathname.length), await Deno.readTextFile(f)));
  }
  return blocks;
}

Deno.test("docBlocks() finds the fenced blocks of a JSDoc comment", () => {
  const src = "/**\n * @example\n * ```ts\n * assert(1);\n * ```\n */\n// ```ts\n";
  assert.deepEqual(docBlocks("x.ts", src), [{ file: "x.ts", line: 3, text: " * assert(1);" }]);
});

Deno.test("no documentation example checks its result with console.assert (it never fails)", async () => {
  const offenders = (await allBlocks()).filter((b) => b.text.includes("console.assert"));
  assert.deepEqual(offenders.map((b) => `${b.file}:${b.line}`), []);
});

Deno.test("every documentation example asserts with node:assert", async () => {
  const blocks = await allBlocks();
  assert.ok(blocks.length > 100, `only ${blocks.length} examples found: is the scan broken?`);
  const unchecked = blocks.filter((b) => !/from "node:assert(?:\/strict)?"/.test(b.text));
  assert.deepEqual(unchecked.map((b) => `${b.file}:${b.line}`), []);
});
