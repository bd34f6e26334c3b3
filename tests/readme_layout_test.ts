/** README: its layout list names every folder of `src/` (one line each, none that is gone), and its tables are whole. */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

Deno.test("README's layout names every src/ folder on a line of its own, and only existing ones", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const listed = [...readme.matchAll(/^- `src\/([a-z_]+)`: \S/gm)].map((m) => m[1]);
  const folders: string[] = [];
  for await (const e of Deno.readDir(new URL("src/", ROOT))) if (e.isDirectory) folders.push(e.name);
  assert.deepEqual([...listed].sort(), folders.sort());
  assert.equal(new Set(listed).size, listed.length, "each folder once");
});

Deno.test("README's table cells close every code span (an unescaped `|` inside one splits the cell and loses the rest)", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const broken = readme.split("\n").flatMap((line, i) =>
    line.startsWith("|") && line.split(/(?<!\\)\|/).some((cell) => (cell.match(/`/g)?.length ?? 0) % 2 === 1)
      ? [`line ${i + 1}: ${line.slice(0, 80).trim()}`]
      : []
  );
  assert.deepEqual(broken, []);
});
