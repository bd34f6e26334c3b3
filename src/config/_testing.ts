/**
 * Test helpers for configurations: parsing a text and reading its error, and a temporary copy of a
 * fixture directory, optionally with its text rewritten (JAiRouter's real tree points at private
 * hosts; tests that start anything point it at 127.0.0.1).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, parseConfig } from "./load.ts";

/** Parses YAML text as the file `x.yaml`, without environment variables. */
export const parseText = (text: string): ReturnType<typeof parseConfig> =>
  parseConfig(text, { source: "x.yaml", env: {} });

/** The message of the `ConfigError` that parsing `text` throws (fails the test when none is thrown). */
export function failureMessage(text: string): string {
  try {
    parseText(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err.message;
  }
  assert.fail("parseConfig() did not throw");
}

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
