/**
 * Key spelling rules. JAiRouter is a Spring Boot application, and Spring's relaxed binding accepts
 * `base-url`, `baseUrl` and `base_url` for the same property; the seed itself mixes `hash-algorithm`
 * with `failureThreshold`. We normalise every key of our own blocks to camelCase before validation,
 * but leave alone the maps whose keys are data (upstream `headers`, a fallback response `body`).
 *
 * @module
 */

import type { ServiceKind } from "../types.ts";

/** One step of a path into the configuration: a mapping key or a sequence index. */
export type PathSegment = string | number;

/**
 * Turns `kebab-case` and `snake_case` into camelCase; camelCase passes through unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { camelize } from "./keys.ts";
 * assert(camelize("client-ip-enable") === "clientIpEnable");
 * assert(camelize("failureThreshold") === "failureThreshold");
 * ```
 */
export function camelize(key: string): string {
  // Only separators between words: a leading "_" (as in "__proto__") is part of the name.
  return key.replace(/(?<=[a-zA-Z0-9])[-_]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * A key without case or separators (`Load_Balance`, `load-balance`, `loadBalance` → `loadbalance`),
 * the form in which Spring's relaxed binding compares property names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { foldKey } from "./keys.ts";
 * assert.equal(foldKey("API_KEY"), foldKey("apiKey"));
 * ```
 */
export function foldKey(key: string): string {
  return camelize(key).toLowerCase();
}

/**
 * The keys a configuration can hold, by their folded form ({@linkcode foldKey}): how a key written
 * in another case (`Enabled`, `API-KEY`) is recognised, as Spring does. Built from the schema
 * (`suggest.ts` `schemaKeyNames`).
 */
export type KeyNames = ReadonlyMap<string, string>;

/**
 * Turns a camelCase key into kebab-case, the spelling used when a message must name a key that is
 * absent from the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kebabize } from "./keys.ts";
 * assert(kebabize("baseUrl") === "base-url");
 * ```
 */
export function kebabize(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Other names people give the services (after camelisation), mapped to the seed's section names. */
const SERVICE_ALIASES: ReadonlyMap<string, ServiceKind> = new Map(
  Object.entries({
    embeddings: "embedding",
    imageGen: "imgGen",
    imageGeneration: "imgGen",
    imagesGenerations: "imgGen",
    imageEdit: "imgEdit",
    imageEdits: "imgEdit",
    imagesEdits: "imgEdit",
    speech: "tts",
    transcriptions: "stt",
  } as Record<string, ServiceKind>).map(([k, v]) => [foldKey(k), v]),
);

/** Root sections that belong to DAiRouter; everything else at the root is someone else's. */
export const OWN_ROOT_KEYS: ReadonlySet<string> = new Set([
  "model",
  "server",
  "log",
  "state",
  "auth",
  "admin",
  "console",
]);

/** How the walker treats the keys of one mapping. */
export type KeyMode = "normalize" | "verbatim";

/**
 * Decides how to spell the keys of the mapping found at `parent` (a path of normalised keys):
 * upstream `headers`, a fallback `response.body` and the model names keying `aliases` and
 * `fallbacks` are data, so their keys stay as written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyModeAt } from "./keys.ts";
 * assert(keyModeAt(["model", "services", "chat", "instances", 0, "headers"]) === "verbatim");
 * assert(keyModeAt(["model", "services"]) === "normalize");
 * ```
 */
export function keyModeAt(parent: readonly PathSegment[]): KeyMode {
  // Checked along the whole path: anything nested inside a body is data too.
  for (let i = 0; i < parent.length; i++) {
    if (parent[i] === "headers" && i > 0) return "verbatim";
    if (parent[i] === "body" && parent[i - 1] === "response") return "verbatim";
    // Model names are data: the keys of the catalogue's `aliases` and `fallbacks` (catalogue.ts).
    if ((parent[i] === "aliases" || parent[i] === "fallbacks") && parent[0] === "model") return "verbatim";
  }
  return "normalize";
}

/**
 * The normalised spelling of `key` inside the mapping at `parent`: camelCase, the spelling of
 * `names` whatever the case (`Enabled` → `enabled`, as Spring's relaxed binding reads it), plus
 * the service aliases (`embeddings` → `embedding`, `img-gen` → `imgGen`) directly under
 * `model.services`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeKey } from "./keys.ts";
 * assert(normalizeKey(["model", "services"], "embeddings") === "embedding");
 * assert(normalizeKey(["model", "services"], "img-edit") === "imgEdit");
 * assert(normalizeKey(["model", "services", "chat", "instances", 0, "headers"], "X-Trace") === "X-Trace");
 * ```
 */
export function normalizeKey(parent: readonly PathSegment[], key: string, names?: KeyNames): string {
  if (keyModeAt(parent) === "verbatim") return key;
  const camel = camelize(key);
  const folded = camel.toLowerCase();
  if (parent.length === 2 && parent[0] === "model" && parent[1] === "services") {
    const alias = SERVICE_ALIASES.get(folded);
    if (alias !== undefined) return alias;
  }
  return names?.get(folded) ?? camel;
}

/** What the walker does with the value of one key. */
export type ReadPolicy = "read" | "record" | "skip";

/** `jairouter.security` keys that are read (the rest of `jairouter` is only recorded). */
const JAIROUTER_SECURITY_READ: ReadonlySet<string> = new Set(["enabled", "apiKey", "jwt", "sanitization"]);
/** Keys of `jairouter.security.sanitization.{request,response}` that decide whether it is on. */
const SANITIZATION_READ: ReadonlySet<string> = new Set(["enabled", "sensitiveWords", "piiPatterns"]);

/**
 * What to do with the value under `path` (normalised keys): `read` it; `record` where it is
 * written but not read it (foreign root sections such as Spring's `spring:` and `logging:`, whose
 * `${…}` placeholders are Spring property references, not environment variables; they are reported
 * as ignored); or `skip` it silently (the parts of a JAiRouter security block that only matter when
 * the block is on, which is reported whole).
 *
 * Of JAiRouter's own `jairouter:` section only what DAiRouter maps is read: `security.enabled`,
 * `security.api-key`, `security.jwt.enabled` and the `enabled` switches and rule lists of
 * `security.sanitization`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPolicy } from "./keys.ts";
 * assert(readPolicy(["logging"]) === "record");
 * assert(readPolicy(["jairouter", "security", "apiKey"]) === "read");
 * assert(readPolicy(["jairouter", "security", "jwt", "secret"]) === "skip");
 * ```
 */
export function readPolicy(path: readonly PathSegment[]): ReadPolicy {
  const [root, second, third, fourth, fifth] = path;
  if (path.length === 1) return OWN_ROOT_KEYS.has(String(root)) || root === "jairouter" ? "read" : "record";
  if (root !== "jairouter") return "read";
  if (path.length === 2) return second === "security" ? "read" : "record";
  if (second !== "security") return "read";
  if (path.length === 3) return JAIROUTER_SECURITY_READ.has(String(third)) ? "read" : "record";
  if (third === "jwt") return path.length === 4 && fourth === "enabled" ? "read" : "skip";
  if (third === "sanitization") {
    if (path.length === 4) return fourth === "request" || fourth === "response" ? "read" : "skip";
    if (path.length === 5) return SANITIZATION_READ.has(String(fifth)) ? "read" : "skip";
  }
  return "read";
}

/**
 * The context that decides how the keys below `path` are spelled and read (`keyModeAt`,
 * `normalizeKey`, `readPolicy` in `keys.ts`): a value built in one context is reused for an alias
 * used in the same one. Only the root, `model`, `model.services` and `jairouter` depend on the
 * whole path; elsewhere it is whether keys are verbatim, and whether the value is a `response`
 * (whose `body` is data).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyContextOf } from "./keys.ts";
 * const a = ["model", "services", "chat", "instances", 0];
 * const b = ["model", "services", "embedding", "instances", 3];
 * assert.equal(keyContextOf(a), keyContextOf(b));
 * assert.notEqual(keyContextOf(["model"]), keyContextOf(["server"]));
 * ```
 */
export function keyContextOf(path: readonly PathSegment[]): string {
  const [first, second] = path;
  if (
    path.length === 0 || first === "jairouter" ||
    (first === "model" && (path.length === 1 || (path.length === 2 && second === "services")))
  ) {
    return path.join(".");
  }
  return `${keyModeAt(path)}|${path[path.length - 1] === "response" ? "response" : ""}`;
}
