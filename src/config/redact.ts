/**
 * A copy of the configuration that is safe to show (admin API, logs): instance API keys, secret
 * upstream headers, passwords inside base URLs and the digests of client keys and of the admin token
 * are replaced by `"[redacted]"`. A digest is not the key, but a short key could be found from it by
 * brute force, and nobody reading the config needs it.
 *
 * @module
 */

import { redactUserinfo } from "./base_url.ts";
import type { Config } from "./types.ts";

/** What replaces a secret. */
export const REDACTED = "[redacted]";

const SECRET_HEADER =
  /^(authorization|proxy-authorization|cookie|set-cookie)$|api[-_]?key|token|secret|passw|auth/i;

/** Whether an upstream header's value is a secret, judged by its name. */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name);
}

/**
 * Returns a JSON-able deep copy of `config` with secrets replaced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./load.ts";
 * import { redactConfig } from "./redact.ts";
 * const { config } = parseConfig(
 *   "model:\n  services:\n    chat:\n      instances:\n        - { name: m, base-url: 'http://127.0.0.1:1', api-key: sk-1 }\n",
 *   { source: "x.yaml", env: {} },
 * );
 * const shown = JSON.stringify(redactConfig(config));
 * assert(!shown.includes("sk-1") && shown.includes("[redacted]"));
 * ```
 */
export function redactConfig(config: Config): unknown {
  return copy(config, []);
}

function copy(value: unknown, path: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => copy(item, path));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  const inHeaders = path[path.length - 1] === "headers";
  for (const [key, item] of Object.entries(value)) {
    let shown: unknown;
    if (inHeaders && typeof item === "string") shown = isSecretHeader(key) ? REDACTED : item;
    else if ((key === "apiKey" || key.endsWith("Sha256")) && typeof item === "string") shown = REDACTED;
    else if ((key === "baseUrl" || key === "url") && typeof item === "string") shown = redactUrl(item);
    else shown = copy(item, [...path, key]);
    Object.defineProperty(out, key, { value: shown, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * `url` with its credentials replaced: the whole userinfo, since a username alone is often a
 * token (`http://token@host`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactUrl } from "./redact.ts";
 * assert.equal(redactUrl("http://u:pw@10.0.0.1:8000/v1"), "http://[redacted]@10.0.0.1:8000/v1");
 * assert.equal(redactUrl("http://sk-token@10.0.0.1:8000"), "http://[redacted]@10.0.0.1:8000");
 * ```
 */
export function redactUrl(url: string): string {
  return redactUserinfo(url);
}
