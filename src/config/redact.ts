/**
 * A copy of the configuration that is safe to show (admin API, instance views, the console, whose
 * first message anonymous readers get with `console.public-read`): instance API keys, upstream header
 * values, passwords inside base URLs and the digests of client keys and of the admin token are
 * replaced by `"[redacted]"`. A digest is not the key, but a short key could be found from it by
 * brute force, and nobody reading the config needs it.
 *
 * Upstream headers are redacted by default: a header is written into an instance to send something
 * the upstream wants, and too often that is a credential under a name no pattern foresees
 * (`Ocp-Apim-Subscription-Key`, `x-functions-key`, `X-Signature`, `X-Vault-Credential`…). Only the
 * values of the few headers in {@linkcode PUBLIC_HEADERS}, which say how to talk rather than who is
 * talking, are shown. Header names are always shown.
 *
 * @module
 */

import { redactUserinfo } from "./base_url.ts";
import type { Config } from "./types.ts";

/** What replaces a secret. */
export const REDACTED = "[redacted]";

/**
 * The upstream headers whose values are shown (lower case; names compare case-insensitively):
 * content negotiation, caching, the client's name, request correlation ids, and the API version and
 * beta switches of Anthropic's and OpenAI's APIs. Every other header's value is redacted.
 */
export const PUBLIC_HEADERS: ReadonlySet<string> = new Set([
  "accept",
  "accept-encoding",
  "accept-language",
  "cache-control",
  "content-type",
  "user-agent",
  "x-request-id",
  "x-correlation-id",
  "anthropic-version",
  "anthropic-beta",
  "openai-beta",
]);

/**
 * Whether an upstream header's value is hidden when the config is shown: every header's is, except
 * those of {@linkcode PUBLIC_HEADERS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSecretHeader } from "./redact.ts";
 * assert.equal(isSecretHeader("Ocp-Apim-Subscription-Key"), true);
 * assert.equal(isSecretHeader("X-Tenant"), true, "unknown: hidden");
 * assert.equal(isSecretHeader("Content-Type"), false);
 * ```
 */
export function isSecretHeader(name: string): boolean {
  return !PUBLIC_HEADERS.has(name.toLowerCase());
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
    if (inHeaders) shown = isSecretHeader(key) ? REDACTED : copy(item, [...path, key]);
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
