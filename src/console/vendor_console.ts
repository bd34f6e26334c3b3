/**
 * `deno task vendor-console`: copies the browser builds of the console's libraries from the
 * installed npm packages (versions pinned in `deno.json`) into `src/console/vendor/`, with their
 * licences, and writes `vendor/manifest.json` (package, version, source file, SHA-256, size).
 * `vendor_test.ts` checks that the files in the repository still match that manifest.
 *
 * Run it after changing a pinned version; commit the result.
 *
 * @module
 */

import { createHash } from "node:crypto";
import denoJson from "../../deno.json" with { type: "json" };

/** One vendored file: where it comes from in its package, and its name in `vendor/`. */
export interface VendorFile {
  readonly pkg: string;
  readonly from: string;
  readonly to: string;
}

/** What the console loads (and the licences that go with it). */
export const VENDOR_FILES: readonly VendorFile[] = [
  { pkg: "preact", from: "dist/preact.mjs", to: "preact.mjs" },
  { pkg: "preact", from: "LICENSE", to: "preact.LICENSE.txt" },
  { pkg: "htm", from: "dist/htm.mjs", to: "htm.mjs" },
  { pkg: "htm", from: "LICENSE", to: "htm.LICENSE.txt" },
  { pkg: "uplot", from: "dist/uPlot.esm.js", to: "uPlot.esm.js" },
  { pkg: "uplot", from: "dist/uPlot.min.css", to: "uPlot.min.css" },
  { pkg: "uplot", from: "LICENSE", to: "uPlot.LICENSE.txt" },
];

/** The version `deno.json` pins for `pkg` (`"npm:preact@11.2.0"` → `11.2.0`). */
export function pinnedVersion(pkg: string): string {
  const spec = (denoJson.imports as Record<string, string>)[pkg];
  const m = spec && /^npm:[^@]+@(\d+\.\d+\.\d+)$/.exec(spec);
  if (!m) {
    throw new Error(`deno.json must pin "${pkg}" to an exact version (npm:${pkg}@x.y.z), found ${spec}`);
  }
  return m[1];
}

/** Hex SHA-256 of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function main(): Promise<void> {
  const root = new URL("../../", import.meta.url);
  const out = new URL("./vendor/", import.meta.url);
  // Installs the pinned packages into node_modules (nodeModulesDir: auto).
  const install = await new Deno.Command(Deno.execPath(), { args: ["install"], cwd: root }).output();
  if (!install.success) throw new Error(`deno install failed:\n${new TextDecoder().decode(install.stderr)}`);
  const files = [];
  for (const f of VENDOR_FILES) {
    const dir = new URL(`node_modules/${f.pkg}/`, root);
    const pkgJson = JSON.parse(await Deno.readTextFile(new URL("package.json", dir)));
    const version = pinnedVersion(f.pkg);
    if (pkgJson.version !== version) {
      throw new Error(
        `node_modules/${f.pkg} is ${pkgJson.version}, deno.json pins ${version}: run deno install`,
      );
    }
    const bytes = await Deno.readFile(new URL(f.from, dir));
    await Deno.writeFile(new URL(f.to, out), bytes);
    files.push({
      file: f.to,
      package: f.pkg,
      version,
      source: f.from,
      license: pkgJson.license,
      sha256: sha256Hex(bytes),
      bytes: bytes.byteLength,
    });
    console.log(`${f.to.padEnd(20)} ${f.pkg}@${version} ${f.from} (${bytes.byteLength} bytes)`);
  }
  const manifest = { generatedBy: "deno task vendor-console", files };
  await Deno.writeTextFile(new URL("manifest.json", out), `${JSON.stringify(manifest, null, 2)}\n`);
}

if (import.meta.main) await main();
