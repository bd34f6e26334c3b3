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
const SERVICE_ALIASES: Readonly<Record<string, ServiceKind>> = {
  embeddings: "embedding",
  imageGen: "imgGen",
  imageGeneration: "imgGen",
  imagesGenerations: "imgGen",
  imageEdit: "imgEdit",
  imageEdits: "imgEdit",
  imagesEdits: "imgEdit",
  speech: "tts",
  transcriptions: "stt",
};

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

/**
 * Keys found at the root of a Spring Boot `application.yml`, so the warning can say where they
 * come from. Not exhaustive: any other unknown root key is still ignored, with a plainer warning.
 */
export const SPRING_ROOT_KEYS: ReadonlySet<string> = new Set([
  "spring",
  "logging",
  "management",
  "info",
  "springdoc",
  "webclient",
  "jwt",
  "security",
  "eureka",
  "feign",
  "debug",
  "trace",
]);

/** How the walker treats the keys of one mapping. */
export type KeyMode = "normalize" | "verbatim";

/**
 * Decides how to spell the keys of the mapping found at `parent` (a path of normalised keys):
 * upstream `headers` and a fallback `response.body` are data, so their keys stay as written.
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
  }
  return "normalize";
}

/**
 * The normalised spelling of `key` inside the mapping at `parent`: camelCase, plus the service
 * aliases (`embeddings` → `embedding`, `img-gen` → `imgGen`) directly under `model.services`.
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
export function normalizeKey(parent: readonly PathSegment[], key: string): string {
  if (keyModeAt(parent) === "verbatim") return key;
  const camel = camelize(key);
  if (parent.length === 2 && parent[0] === "model" && parent[1] === "services") {
    return SERVICE_ALIASES[camel] ?? camel;
  }
  return camel;
}

/**
 * Whether the value under `path` should be read at all. Foreign root sections (Spring's `spring:`,
 * `logging:`, …) are skipped whole: their `${…}` placeholders are Spring property references, not
 * environment variables, and their keys are not ours to normalise.
 */
export function isForeign(path: readonly PathSegment[]): boolean {
  return path.length === 1 && typeof path[0] === "string" && !OWN_ROOT_KEYS.has(path[0]);
}
