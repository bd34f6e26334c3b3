/** README's layout list names every folder of `src/`, one line each, and no folder that is gone. */
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
