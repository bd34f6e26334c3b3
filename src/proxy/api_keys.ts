/**
 * Client credentials: which configured API key a request carries (`Authorization: Bearer <key>`,
 * `X-API-Key: <key>`, or the header `auth.header-name` names) and whether that key may use a
 * service and a model. Every answer is a value; `access.ts` turns "no key" into a 401 and "not
 * this service / model" into a 403, and holds the per-key rate limit with every other limit. A key
 * past its `expires-at` is no key.
 *
 * Keys are compared as SHA-256 digests with `timingSafeEqual`, against every configured key
 * without stopping at the first match, so the time taken says nothing about which bytes matched
 * or which key it was.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import type { ApiKeyConfig, AuthConfig } from "../config/types.ts";
import type { ServiceKind } from "../types.ts";

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
 * The credentials a request presents: the `Bearer` token of `Authorization`, then `X-API-Key`,
 * then the configured `header` (lower-case), if any.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { credentialsOf } from "./api_keys.ts";
 * const h = new Headers({ authorization: "Bearer sk-a", "x-api-key": "sk-b", "x-team-key": "sk-c" });
 * assert(credentialsOf(h).join() === "sk-a,sk-b");
 * assert(credentialsOf(h, "x-team-key").join() === "sk-a,sk-b,sk-c");
 * ```
 */
export function credentialsOf(headers: Headers, header?: string): string[] {
  const out: string[] = [];
  const bearer = bearerToken(headers);
  if (bearer) out.push(bearer);
  const apiKey = headers.get("x-api-key")?.trim();
  if (apiKey) out.push(apiKey);
  const custom = header ? headers.get(header)?.trim() : undefined;
  if (custom) out.push(custom);
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

/** A key's decoded digest and salt. */
interface Stored {
  readonly digest: Buffer;
  /** JAiRouter's salted `key-hash`: the digest is SHA-256(salt + key). */
  readonly salt?: Buffer;
}

/** Decoded digests per key list: a config is frozen, so its list is a stable cache key. */
const digestCache = new WeakMap<readonly ApiKeyConfig[], Stored[]>();

function digestsOf(keys: readonly ApiKeyConfig[]): Stored[] {
  let digests = digestCache.get(keys);
  if (!digests) {
    digests = keys.map((k) => ({
      digest: Buffer.from(k.keySha256, "hex"),
      ...(k.keySalt ? { salt: Buffer.from(k.keySalt, "hex") } : {}),
    }));
    digestCache.set(keys, digests);
  }
  return digests;
}

/**
 * The configured key a request carries, or `undefined` (then it is a 401). A key past its
 * `expiresAt` at `now` is not accepted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findApiKey } from "./api_keys.ts";
 * const keys = [{ name: "ci", keySha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" }];
 * const auth = { enabled: true, keys };
 * assert(findApiKey(new Headers({ "x-api-key": "abc" }), auth, 0)?.name === "ci");
 * assert(findApiKey(new Headers({ authorization: "Bearer abd" }), auth, 0) === undefined);
 * const expiring = { enabled: true, keys: [{ ...keys[0], expiresAt: 1000 }] };
 * assert(findApiKey(new Headers({ "x-api-key": "abc" }), expiring, 999)?.name === "ci");
 * assert(findApiKey(new Headers({ "x-api-key": "abc" }), expiring, 1000) === undefined);
 * ```
 */
export function findApiKey(headers: Headers, auth: AuthConfig, now: number): ApiKeyConfig | undefined {
  const keys = auth.keys;
  const stored = digestsOf(keys);
  let found: ApiKeyConfig | undefined;
  for (const credential of credentialsOf(headers, auth.header)) {
    const presented = digestOf(credential);
    for (let i = 0; i < keys.length; i++) {
      const s = stored[i];
      const candidate = s.salt ? saltedDigestOf(s.salt, credential) : presented;
      // No early exit: every key is compared whatever matched before.
      if (timingSafeEqual(candidate, s.digest) && !found) found = keys[i];
    }
  }
  // Expiry is not secret: checked once a key is found.
  return found && (found.expiresAt === undefined || now < found.expiresAt) ? found : undefined;
}

/** SHA-256 of the salt's bytes followed by the credential's UTF-8 bytes (JAiRouter's `key-hash`). */
function saltedDigestOf(salt: Buffer, secret: string): Buffer {
  return createHash("sha256").update(salt).update(secret, "utf8").digest();
}

/**
 * Whether `key` may use `service` (a key without a `services` list may use every service).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serviceAllowed } from "./api_keys.ts";
 * const key = { name: "ci", keySha256: "00", services: ["embedding"] as const };
 * assert(serviceAllowed(key, "embedding") && !serviceAllowed(key, "chat"));
 * ```
 */
export function serviceAllowed(key: ApiKeyConfig, service: ServiceKind): boolean {
  return key.services === undefined || key.services.includes(service);
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
