/**
 * Unknown keys, sorted into two kinds. A key that JAiRouter or Spring Boot defines but DAiRouter
 * does not use (`logging:`, `server.servlet`, an instance's `healthy`, `jairouter.tracing`) is a
 * warning: a JAiRouter configuration must load unchanged. Any other unknown key is a typo until
 * proven otherwise (`wieght`, `laod-balance`, a service named `chatt`) and an error, with the
 * closest valid key at that position as a suggestion.
 *
 * @module
 */

import type { z } from "zod";
import { kebabize, OWN_ROOT_KEYS, type PathSegment } from "./keys.ts";
import { closest, schemaKeysAt } from "./suggest.ts";

/** Root sections of Spring Boot's own `application.yml`. */
const SPRING_ROOTS: ReadonlySet<string> = new Set([
  "spring",
  "logging",
  "management",
  "info",
  "springdoc",
  "debug",
  "trace",
  "eureka",
  "feign",
  "resilience4j",
  "jwt",
  "security",
]);

/** Root sections of JAiRouter's configuration tree (`src/main/resources/**`) other than `model`. */
const JAIROUTER_ROOTS: ReadonlySet<string> = new Set([
  "jairouter",
  "store",
  "webclient",
  "adapterDefinitions",
  "monitoring",
]);

/** Spring Boot `server.*` keys DAiRouter does not use (`port` and `address` are mapped). */
const SPRING_SERVER_KEYS: ReadonlySet<string> = new Set([
  "servlet",
  "compression",
  "error",
  "http2",
  "maxHttpHeaderSize",
  "maxHttpRequestHeaderSize",
  "shutdown",
  "tomcat",
  "netty",
  "jetty",
  "undertow",
  "reactive",
  "forwardHeadersStrategy",
  "useForwardHeaders",
  "serverHeader",
]);

/**
 * Keys of JAiRouter's `model` section (its `ModelRouterProperties`) that DAiRouter does not use,
 * by the last key of their parent: `virtual-nodes` of consistent hashing, an instance's `id`,
 * `healthy` flag and own `circuit-breaker`, a rate limit's `key`.
 */
const JAIROUTER_MODEL_KEYS: Readonly<Record<string, readonly string[]>> = {
  loadBalance: ["virtualNodes"],
  instance: ["id", "healthy", "circuitBreaker"],
  rateLimit: ["key"],
};

/** The keys above, for recognising them whatever their case (`suggest.ts` `schemaKeyNames`). */
export const FOREIGN_KEYS: readonly string[] = [
  ...SPRING_ROOTS,
  ...JAIROUTER_ROOTS,
  ...SPRING_SERVER_KEYS,
  ...Object.values(JAIROUTER_MODEL_KEYS).flat(),
];

/** How an unknown key is reported. */
export interface UnknownKey {
  /** `warning`: a JAiRouter or Spring key, ignored; `error`: a key nobody defines. */
  readonly level: "warning" | "error";
  /** Follows the key's path in the message. */
  readonly message: string;
}

function isInstance(path: readonly PathSegment[]): boolean {
  return path.length === 6 && path[0] === "model" && path[3] === "instances" && typeof path[4] === "number";
}

/** Whether the unknown key at `path` is one JAiRouter or Spring defines, and whose. */
function owner(path: readonly PathSegment[]): "Spring Boot" | "JAiRouter" | undefined {
  const [root] = path;
  const key = String(path[path.length - 1]);
  const parent = path[path.length - 2];
  if (path.length === 1) {
    // Spring also reads flattened keys (`spring.config.import: …`): the first segment says whose.
    const head = key.split(".")[0];
    if (SPRING_ROOTS.has(head)) return "Spring Boot";
    return JAIROUTER_ROOTS.has(head) ? "JAiRouter" : undefined;
  }
  if (root === "server" && path.length === 2) return SPRING_SERVER_KEYS.has(key) ? "Spring Boot" : undefined;
  if (root === "jairouter") {
    // Everything JAiRouter's own section holds is known to it, except in the API key block,
    // whose every key DAiRouter maps: an unknown one there is a typo.
    return path[2] === "apiKey" ? undefined : "JAiRouter";
  }
  if (root !== "model") return undefined;
  if (isInstance(path)) return JAIROUTER_MODEL_KEYS.instance.includes(key) ? "JAiRouter" : undefined;
  if (parent === "loadBalance" || parent === "rateLimit") {
    return JAIROUTER_MODEL_KEYS[parent].includes(key) ? "JAiRouter" : undefined;
  }
  return undefined;
}

/**
 * Sorts the unknown key at `path` (normalised keys; `written` is its last key as the file spells
 * it), suggesting the closest key `schema` accepts there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { classifyUnknownKey } from "./known_keys.ts";
 * const schema = z.strictObject({ model: z.strictObject({ weight: z.number() }).optional() });
 * assert.deepEqual(classifyUnknownKey(schema, ["model", "wieght"], "wieght"), {
 *   level: "error",
 *   message: "is an unknown key — did you mean weight?",
 * });
 * assert.equal(classifyUnknownKey(schema, ["logging"], "logging").level, "warning");
 * ```
 */
export function classifyUnknownKey(
  schema: z.ZodType,
  path: readonly PathSegment[],
  written: string,
): UnknownKey {
  const who = owner(path);
  if (who !== undefined) {
    const what = who === "Spring Boot" && path.length === 1
      ? "a Spring Boot setting, not a DAiRouter one"
      : `a ${who} setting DAiRouter does not use`;
    const except = path[0] === "spring" ? " (but for config.import and profiles, which are followed)" : "";
    return { level: "warning", message: `is ${what}: ignored${except}` };
  }
  const candidates = path.length === 1 ? [...OWN_ROOT_KEYS] : schemaKeysAt(schema, path.slice(0, -1));
  const suggestion = closest(written, candidates);
  if (suggestion !== undefined) {
    return { level: "error", message: `is an unknown key — did you mean ${suggestion}?` };
  }
  const known = candidates.map(kebabize).join(", ");
  return {
    level: "error",
    message: known === "" ? "is an unknown key" : `is an unknown key (known here: ${known})`,
  };
}
