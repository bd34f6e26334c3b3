/**
 * Upstream URL building: the OpenAI default path of each service, JAiRouter's "base-url + path"
 * join, and the `/v1/completions` exception for configured chat paths.
 *
 * @module
 */

import type { AdapterInput, ServiceKind } from "../types.ts";

/** The OpenAI API path of each service (OpenAI API reference), used when an instance sets no `path`. */
export const OPENAI_PATHS: Readonly<Record<ServiceKind, string>> = Object.freeze({
  chat: "/v1/chat/completions",
  embedding: "/v1/embeddings",
  rerank: "/v1/rerank",
  tts: "/v1/audio/speech",
  stt: "/v1/audio/transcriptions",
  imgGen: "/v1/images/generations",
  imgEdit: "/v1/images/edits",
});

/** The legacy text-completions route, served by the chat service. */
export const COMPLETIONS_ROUTE = "/v1/completions";

/**
 * Joins a base URL and a path with exactly one slash between them (base URLs may end with "/").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { joinUrl } from "./url.ts";
 * assert(joinUrl("http://h:1/", "/v1/models") === "http://h:1/v1/models");
 * assert(joinUrl("http://h:1", "v1/models") === "http://h:1/v1/models");
 * ```
 */
export function joinUrl(baseUrl: string, path: string): string {
  if (path === "") return baseUrl;
  const base = baseUrl.replace(/\/+$/, "");
  const tail = path.replace(/^\/+/, "");
  return `${base}/${tail}`;
}

/**
 * Rewrites a chat path to its legacy completions sibling: `/v1-openai/chat/completions` →
 * `/v1-openai/completions`. Other paths are returned unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { completionsSibling } from "./url.ts";
 * assert(completionsSibling("/v1/chat/completions") === "/v1/completions");
 * assert(completionsSibling("/generate") === "/generate");
 * ```
 */
export function completionsSibling(path: string): string {
  return path.endsWith("/chat/completions")
    ? `${path.slice(0, -"/chat/completions".length)}/completions`
    : path;
}

/**
 * The path an adapter sends to: the instance's configured `path` when set (JAiRouter semantics),
 * else `defaultPath`. For the `/v1/completions` route a configured chat path becomes its
 * completions sibling, so one chat instance serves both routes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { effectivePath } from "./url.ts";
 * const target = { baseUrl: "http://h", path: "/v1-openai/chat/completions", headers: {} };
 * assert(effectivePath({ route: "/v1/completions", target }, "/x") === "/v1-openai/completions");
 * assert(effectivePath({ route: "/v1/chat/completions", target: { ...target, path: undefined } }, "/x") === "/x");
 * ```
 */
export function effectivePath(input: Pick<AdapterInput, "route" | "target">, defaultPath: string): string {
  const configured = input.target.path;
  if (configured === undefined || configured === "") return defaultPath;
  return input.route === COMPLETIONS_ROUTE ? completionsSibling(configured) : configured;
}

/**
 * Whether `path` ends with `suffix` on a segment boundary, ignoring a trailing slash and a query.
 * Adapters use it to tell an OpenAI-style configured path from a native one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pathEndsWith } from "./url.ts";
 * assert(pathEndsWith("/api/embed/", "/api/embed"));
 * assert(!pathEndsWith("/v1/xembed", "/embed"));
 * ```
 */
export function pathEndsWith(path: string, suffix: string): boolean {
  const clean = path.replace(/[?#].*$/, "").replace(/\/+$/, "");
  const want = suffix.replace(/\/+$/, "");
  if (!clean.endsWith(want)) return false;
  return want.startsWith("/") || clean.length === want.length ||
    clean[clean.length - want.length - 1] === "/";
}
