/**
 * The console's static files: the page, its scripts and styles (`static/`) and the vendored
 * libraries (`vendor/`, listed in `vendor/manifest.json`). They are read once from beside this
 * module — in a compiled binary from the files `deno compile --include` embedded — and served
 * with their content type, a strong ETag, and gzip or Brotli when the browser accepts it
 * (compressed once, off the event loop).
 *
 * Every file but the page lives under `assets/<build>/`, laid out as on disk (`static/app.js` imports
 * `../vendor/preact.mjs` both in the browser and for `deno check`); `<build>` is a hash of all files:
 * those URLs never change meaning, so they are cached `immutable`; the page itself is revalidated
 * (`no-cache` + ETag) and names the current build.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { brotliCompress, constants, gzip } from "node:zlib";
import { promisify } from "node:util";

/** The page and its own scripts and styles, in `static/`. */
export const STATIC_FILES: readonly string[] = [
  "index.html",
  "app.css",
  "app.js",
  "api.js",
  "charts.js",
  "format.js",
  "views.js",
  "actions.js",
  "icon.svg",
];

/** The placeholder in `index.html` that becomes `assets/<build>/`. */
export const BUILD_PLACEHOLDER = "assets/BUILD/";

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  json: "application/json",
  txt: "text/plain; charset=utf-8",
};

/** One file, ready to serve. */
export interface Asset {
  /** Path below `assets/<build>/`, as on disk (`static/app.js`, `vendor/preact.mjs`); also for the page. */
  readonly path: string;
  readonly type: string;
  readonly body: Uint8Array<ArrayBuffer>;
  /** SHA-256 of the body, hex. */
  readonly sha256: string;
  /** Gzip and Brotli forms, once compressed. */
  readonly encoded: Promise<{ gzip: Uint8Array<ArrayBuffer>; br: Uint8Array<ArrayBuffer> }>;
}

/** Every file of one build. */
export interface AssetSet {
  /** Hash of every file (first 16 hex digits of a SHA-256): the `<build>` path segment. */
  readonly build: string;
  readonly page: Asset;
  /** A file below `assets/<build>/`. */
  get(path: string): Asset | undefined;
  readonly all: readonly Asset[];
}

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

function sha256(bytes: Uint8Array<ArrayBuffer>): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function typeOf(path: string): string {
  return TYPES[path.slice(path.lastIndexOf(".") + 1)] ?? "application/octet-stream";
}

function makeAsset(path: string, body: Uint8Array<ArrayBuffer>): Asset {
  const encoded = Promise.all([
    gzipAsync(body, { level: 9 }),
    brotliAsync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  ]).then(([g, b]) => ({ gzip: new Uint8Array(g), br: new Uint8Array(b) }));
  // Never an unhandled rejection: a failure shows when the file is served (identity then).
  encoded.catch(() => {});
  return { path, type: typeOf(path), body, sha256: sha256(body), encoded };
}

/** Reads file `name` of the console's `static/` or `vendor/` directory. */
export type ReadAsset = (dir: "static" | "vendor", name: string) => Promise<Uint8Array<ArrayBuffer>>;

// Literal directories, both embedded by `deno compile --include` (see deno.json's compile task).
const STATIC_DIR = new URL("./static/", import.meta.url);
const VENDOR_DIR = new URL("./vendor/", import.meta.url);

const readBeside: ReadAsset = (dir, name) =>
  Deno.readFile(new URL(name, dir === "static" ? STATIC_DIR : VENDOR_DIR));

/**
 * Loads the console's files: `static/` as listed in {@linkcode STATIC_FILES}, `vendor/` as listed
 * in its manifest.
 */
export async function loadAssets(read: ReadAsset = readBeside): Promise<AssetSet> {
  const manifest = JSON.parse(new TextDecoder().decode(await read("vendor", "manifest.json"))) as {
    files: { file: string }[];
  };
  const files: [string, Uint8Array<ArrayBuffer>][] = [];
  for (const name of STATIC_FILES) files.push([`static/${name}`, await read("static", name)]);
  for (const { file } of manifest.files) files.push([`vendor/${file}`, await read("vendor", file)]);

  const hash = createHash("sha256");
  for (const [name, body] of files) hash.update(name).update(sha256(body));
  const build = hash.digest("hex").slice(0, 16);

  const byPath = new Map<string, Asset>();
  let page: Asset | undefined;
  for (const [name, body] of files) {
    if (name === "static/index.html") {
      const html = new TextDecoder().decode(body).replaceAll(BUILD_PLACEHOLDER, `assets/${build}/`);
      page = makeAsset(name, new TextEncoder().encode(html));
    } else {
      byPath.set(name, makeAsset(name, body));
    }
  }
  if (!page) throw new Error("Cannot load console assets: static/index.html is missing");
  return { build, page, get: (p) => byPath.get(p), all: [page, ...byPath.values()] };
}

/** The encoding to send for an `Accept-Encoding` value: `br`, `gzip` or none. */
export function pickEncoding(accept: string | null): "br" | "gzip" | undefined {
  if (!accept) return undefined;
  const offered = new Map<string, number>();
  for (const part of accept.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    offered.set(name, q ? Number(q.slice(2)) : 1);
  }
  const ok = (name: string) => (offered.get(name) ?? offered.get("*") ?? 0) > 0;
  if (ok("br")) return "br";
  if (ok("gzip")) return "gzip";
  return undefined;
}

/**
 * Answers `req` with `asset`: 304 when its ETag matches `If-None-Match`, else the body in the
 * best accepted encoding. `immutable` marks hashed URLs.
 */
export async function serveAsset(
  asset: Asset,
  req: Request,
  immutable: boolean,
  headers: HeadersInit,
): Promise<Response> {
  const h = new Headers(headers);
  h.set("content-type", asset.type);
  h.set("vary", "accept-encoding");
  h.set("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  let encoding = pickEncoding(req.headers.get("accept-encoding"));
  let body = asset.body;
  if (encoding) {
    try {
      const encoded = await asset.encoded;
      body = encoded[encoding];
    } catch {
      encoding = undefined;
    }
  }
  // One strong validator per representation (RFC 9110 §8.8.3).
  const etag = `"${asset.sha256.slice(0, 32)}${encoding ? `-${encoding}` : ""}"`;
  h.set("etag", etag);
  if (encoding) h.set("content-encoding", encoding);
  const inm = req.headers.get("if-none-match");
  if (inm && inm.split(",").some((t) => t.trim() === etag || t.trim() === "*")) {
    return new Response(null, { status: 304, headers: h });
  }
  return new Response(req.method === "HEAD" ? null : body, { status: 200, headers: h });
}
