/**
 * Client credentials: which configured API key a request carries (`Authorization: Bearer <key>`
 * or `X-API-Key: <key>`) and whether that key may use a model. Every answer is a value;
 * `access.ts` turns "no key" into a 401 and "not this model" into a 403, and holds the per-key
 * rate limit with every other limit.
 *
 * Keys are compared as SHA-256 digests with `timingSafeEqual`, against every configured key
 * without stopping at the first match, so the time taken says nothing about which bytes matched
 * or which key it was.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import type { ApiKeyConfig } from "../config/types.ts";

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), if any.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bearerToken } from "./api_keys.ts";
 * assert(bearerToken(new Headers({ authorization: "bearer t0k" })) === "t0k");
 * assert(bearerToken(new Headers({ authorization: "Basic dTpw" })) === undefined);
 * ```
 */
export function bearerToken(headers: Headers): string | undefined {
  return BEARER.exec(headers.get("authorization") ?? "")?.[1];
}

/**
 * The credentials a request presents: the `Bearer` token of `Authorization`, then `X-API-Key`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { credentialsOf } from "./api_keys.ts";
 * const h = new Headers({ authorization: "Bearer sk-a", "x-api-key": "sk-b" });
 * assert(credentialsOf(h).join() === "sk-a,sk-b");
 * ```
 */
export function credentialsOf(headers: Headers): string[] {
  const out: string[] = [];
  const bearer = bearerToken(headers);
  if (bearer) out.push(bearer);
  const apiKey = headers.get("x-api-key")?.trim();
  if (apiKey) out.push(apiKey);
  return out;
}

/** SHA-256 of a credential's UTF-8 bytes. */
function digestOf(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

/**
 * Whether `secret` hashes to the hex digest `storedHex`, compared in constant time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secretMatches } from "./api_keys.ts";
 * const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
 * assert(secretMatches("abc", abc) && !secretMatches("abd", abc));
 * ```
 */
export function secretMatches(secret: string, storedHex: string): boolean {
  const stored = Buffer.from(storedHex, "hex");
  // Digests always have the same length; a malformed stored value simply never matches.
  return stored.length === 32 && timingSafeEqual(digestOf(secret), stored);
}

/** Decoded digests per key list: a config is frozen, so its list is a stable cache key. */
const digestCache = new WeakMap<readonly ApiKeyConfig[], Buffer[]>();

function digestsOf(keys: readonly ApiKeyConfig[]): Buffer[] {
  let digests = digestCache.get(keys);
  if (!digests) {
    digests = keys.map((k) => Buffer.from(k.keySha256, "hex"));
    digestCache.set(keys, digests);
  }
  return digests;
}

/**
 * The configured key a request carries, or `undefined` (then it is a 401).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findApiKey } from "./api_keys.ts";
 * const keys = [{ name: "ci", keySha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" }];
 * assert(findApiKey(new Headers({ "x-api-key": "abc" }), keys)?.name === "ci");
 * assert(findApiKey(new Headers({ authorization: "Bearer abd" }), keys) === undefined);
 * ```
 */
export function findApiKey(headers: Headers, keys: readonly ApiKeyConfig[]): ApiKeyConfig | undefined {
  const digests = digestsOf(keys);
  let found: ApiKeyConfig | undefined;
  for (const credential of credentialsOf(headers)) {
    const presented = digestOf(credential);
    for (let i = 0; i < keys.length; i++) {
      // No early exit: every key is compared whatever matched before.
      if (timingSafeEqual(presented, digests[i]) && !found) found = keys[i];
    }
  }
  return found;
}

/**
 * Whether `key` may use `model` (a key without a `models` list may use every model).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelAllowed } from "./api_keys.ts";
 * const key = { name: "ci", keySha256: "00", models: ["llama3"] };
 * assert(modelAllowed(key, "llama3") && !modelAllowed(key, "gpt-4o"));
 * ```
 */
export function modelAllowed(key: ApiKeyConfig, model: string): boolean {
  return key.models === undefined || key.models.includes(model);
}
