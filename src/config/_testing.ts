/**
 * Test helpers for configuration trees: a temporary copy of a fixture directory, optionally with
 * its text rewritten (JAiRouter's real tree points at private hosts; tests that start anything
 * point it at 127.0.0.1).
 *
 * @module
 */

import { join } from "node:path";

/**
 * Copies the directory `from` into a fresh temporary directory, applying `rewrite` to every file's
 * text, runs `fn` with the copy's path and removes it afterwards.
 */
export async function withCopy(
  from: string,
  fn: (dir: string) => Promise<void>,
  rewrite: (text: string, path: string) => string = (text) => text,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dairouter-tree-" });
  try {
    await copyInto(from, dir, "", rewrite);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function copyInto(
  from: string,
  to: string,
  rel: string,
  rewrite: (text: string, path: string) => string,
): Promise<void> {
  for await (const entry of Deno.readDir(join(from, rel))) {
    const path = join(rel, entry.name);
    if (entry.isDirectory) {
      await Deno.mkdir(join(to, path), { recursive: true });
      await copyInto(from, to, path, rewrite);
    } else if (entry.isFile) {
      await Deno.writeTextFile(join(to, path), rewrite(await Deno.readTextFile(join(from, path)), path));
    }
  }
}
