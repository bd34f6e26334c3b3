import assert from "node:assert/strict";
import { pinnedVersion, sha256Hex, VENDOR_FILES } from "./vendor_console.ts";

const dir = new URL("./vendor/", import.meta.url);
const manifest = JSON.parse(await Deno.readTextFile(new URL("manifest.json", dir))) as {
  files: { file: string; package: string; version: string; source: string; sha256: string; bytes: number }[];
};

Deno.test("vendor: every vendored file matches the SHA-256 and size in the manifest", async () => {
  for (const entry of manifest.files) {
    const bytes = await Deno.readFile(new URL(entry.file, dir));
    assert.equal(
      sha256Hex(bytes),
      entry.sha256,
      `${entry.file} was changed by hand: run deno task vendor-console`,
    );
    assert.equal(bytes.byteLength, entry.bytes, entry.file);
  }
});

Deno.test("vendor: the manifest lists exactly the files vendor-console copies, at the versions deno.json pins", () => {
  assert.deepEqual(
    manifest.files.map((f) => [f.file, f.package, f.source]),
    VENDOR_FILES.map((f) => [f.to, f.pkg, f.from]),
  );
  for (const f of manifest.files) assert.equal(f.version, pinnedVersion(f.package), f.file);
});

Deno.test("vendor: no unlisted file hides in vendor/ (everything there is served)", async () => {
  const present = [];
  for await (const e of Deno.readDir(dir)) present.push(e.name);
  assert.deepEqual(present.sort(), [...manifest.files.map((f) => f.file), "manifest.json"].sort());
});

Deno.test("vendor: the files are the installed packages' own builds, when node_modules is there", async () => {
  const root = new URL("../../node_modules/", import.meta.url);
  for (const f of VENDOR_FILES) {
    let original: Uint8Array;
    try {
      original = await Deno.readFile(new URL(`${f.pkg}/${f.from}`, root));
    } catch {
      continue; // not installed (yet): the manifest check above still holds
    }
    const entry = manifest.files.find((m) => m.file === f.to)!;
    assert.equal(sha256Hex(original), entry.sha256, `${f.to} differs from node_modules/${f.pkg}/${f.from}`);
  }
});
