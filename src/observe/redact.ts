/**
 * Redaction of secrets from values before they are logged.
 *
 * Three rules, applied deeply to any value:
 * 1. a property whose key names a credential (authorization, api-key / apiKey / api_key, token,
 *    password, secret, cookie…) has its value replaced by `"[redacted]"`;
 * 2. every occurrence of a configured secret string (upstream API keys, gateway keys) inside any
 *    string is masked, so a key pasted into an error message or a URL does not leak;
 * 3. credentials inside URLs (`user:password@`, `token@`, `?api_key=…`, `&token=…`) and `Bearer …` tokens
 *    in free text are masked even when they are not configured secrets.
 *
 * The result is plain JSON data (no cycles, no bigint, no class instances), so it always
 * serialises.
 *
 * @module
 */

/** What replaces a secret. */
export const REDACTED = "[redacted]";

/**
 * Configured secrets shorter than this are not masked inside other strings: masking `"ab"`
 * everywhere would garble every line while protecting nothing (rule 1 still applies to them).
 */
export const MIN_SECRET_LENGTH = 4;

const MAX_DEPTH = 8;

// Compared after lower-casing and removing `-`, `_`, `.` and spaces, so `X-Api-Key`, `apiKey` and
// `api_key` are one name. Suffixes, so `accessToken` or `db_password` match — but `tokensIn` and
// `max_tokens` (counts, not credentials) do not.
const SENSITIVE_SUFFIXES = [
  "authorization",
  "apikey",
  "apikeys",
  "token",
  "password",
  "passwd",
  "secret",
  "secrets",
  "secretkey",
  "privatekey",
  "cookie",
  "credential",
  "credentials",
];

/** True when a property named `key` holds a credential (rule 1). */
export function isSensitiveKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_. ]/g, "");
  return SENSITIVE_SUFFIXES.some((s) => k.endsWith(s));
}

// The whole userinfo (a username alone is often a token), up to the last `@` of the authority.
const URL_USERINFO = /(\/\/)[^/?#\\\s]*@/g;
const URL_PARAM =
  /([?&;](?:api[-_]?key|key|access[-_]?token|token|password|passwd|secret|client[-_]?secret|sig|signature)=)[^&#\s"']*/gi;
// `Basic` needs a credential-length word after it, so prose such as "Basic auth failed" survives.
const BEARER = /\b(Bearer\s+[A-Za-z0-9._~+/=-]+|Basic\s+[A-Za-z0-9+/=]{8,})/g;
const MAYBE_CREDENTIAL = /:\/\/|=|Bearer|Basic/;

/** Masks secrets inside one string (rules 2 and 3). `secrets` must be sorted longest first. */
export function maskString(s: string, secrets: readonly string[]): string {
  let out = s;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.replaceAll(secret, REDACTED);
  }
  if (!MAYBE_CREDENTIAL.test(out)) return out;
  return out
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(URL_PARAM, `$1${REDACTED}`)
    .replace(BEARER, (m) => `${m.slice(0, m.search(/\s/))} ${REDACTED}`);
}

/** Turns the configured secrets into the list {@linkcode maskString} expects. */
export function prepareSecrets(secrets: Iterable<string> | undefined): string[] {
  if (secrets === undefined) return [];
  const set = new Set<string>();
  for (const s of secrets) {
    if (typeof s !== "string" || s.length < MIN_SECRET_LENGTH) continue;
    set.add(s);
    // A key with reserved characters may also appear percent-encoded in a logged URL.
    set.add(encodeURIComponent(s));
  }
  // Longest first, so a secret that contains another is masked whole.
  return [...set].sort((a, b) => b.length - a.length);
}

/**
 * Returns a JSON-safe copy of `value` with every secret removed (rules 1–3).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareSecrets, redact } from "./redact.ts";
 *
 * const secrets = prepareSecrets(["sk-live-123456"]);
 * const out = redact({
 *   headers: { Authorization: "Bearer abc" },
 *   url: "http://u:pw@host/v1?api_key=xyz",
 *   note: "upstream said: bad key sk-live-123456",
 * }, secrets);
 * assert.deepEqual(out, {
 *   headers: { Authorization: "[redacted]" },
 *   url: "http://[redacted]@host/v1?api_key=[redacted]",
 *   note: "upstream said: bad key [redacted]",
 * });
 * ```
 */
export function redact(value: unknown, secrets: readonly string[]): unknown {
  return walk(value, secrets, 0, new WeakSet<object>());
}

function walk(value: unknown, secrets: readonly string[], depth: number, seen: WeakSet<object>): unknown {
  switch (typeof value) {
    case "string":
      return maskString(value, secrets);
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "boolean":
      return value;
    case "bigint":
      return value.toString();
    case "undefined":
      return null;
    case "function":
      return "[function]";
    case "symbol":
      return value.toString();
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) return "[circular]";
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? "Invalid Date" : obj.toISOString();
  if (obj instanceof URL) return maskString(obj.href, secrets);
  if (ArrayBuffer.isView(obj)) return `[${obj.byteLength} bytes]`;
  seen.add(obj);
  try {
    if (obj instanceof Error) {
      const out: Record<string, unknown> = { name: obj.name, message: maskString(obj.message, secrets) };
      const code = (obj as { code?: unknown }).code;
      if (code !== undefined) out.code = walk(code, secrets, depth + 1, seen);
      if (obj.cause !== undefined) out.cause = walk(obj.cause, secrets, depth + 1, seen);
      return out;
    }
    if (obj instanceof Set) return [...obj].map((v) => walk(v, secrets, depth + 1, seen));
    if (Array.isArray(obj)) return obj.map((v) => walk(v, secrets, depth + 1, seen));
    const entries: Iterable<[unknown, unknown]> = obj instanceof Headers || obj instanceof Map
      ? obj.entries()
      : Object.entries(obj);
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const key = maskString(String(k), secrets);
      out[key] = isSensitiveKey(key) && v !== undefined && v !== null
        ? REDACTED
        : walk(v, secrets, depth + 1, seen);
    }
    return out;
  } finally {
    // Only ancestors count as cycles; the same object twice side by side is fine.
    seen.delete(obj);
  }
}
