/**
 * Credentials inside an instance's `base-url` (`http://user:password@host:port`). `fetch` refuses
 * a URL that carries them, and they must never be shown: requests and probes go to the URL without
 * them, and they are sent as `Authorization: Basic` (RFC 7617) instead — unless the instance has
 * its own `api-key` or `authorization` header, which then wins (see the README).
 *
 * The userinfo is what the WHATWG URL parser takes for it: everything between `//` and the last
 * `@` before the path, query or fragment. A username alone (`http://token@host`) is a credential
 * too (often a token), so it is treated like a password.
 *
 * @module
 */

/** Scheme, then the userinfo (group 2), up to the last `@` of the authority. */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#\\]*)@/i;

const ENCODER = new TextEncoder();

/** What replaces a URL's userinfo where it is shown. */
const REDACTED = "[redacted]";

/**
 * The userinfo of `url` (still percent-encoded), or `undefined` when it has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { userinfoOf } from "./base_url.ts";
 * assert.equal(userinfoOf("http://u:p%40ss@127.0.0.1:8000/v1"), "u:p%40ss");
 * assert.equal(userinfoOf("http://127.0.0.1:8000/?mail=a@b"), undefined);
 * ```
 */
export function userinfoOf(url: string): string | undefined {
  return USERINFO.exec(url)?.[2];
}

/**
 * `url` without its userinfo (unchanged when it has none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withoutUserinfo } from "./base_url.ts";
 * assert.equal(withoutUserinfo("http://a:b@c@127.0.0.1:8000/v1"), "http://127.0.0.1:8000/v1");
 * ```
 */
export function withoutUserinfo(url: string): string {
  return url.replace(USERINFO, "$1");
}

/**
 * `url` with its whole userinfo replaced by `[redacted]`: a username alone may be a token.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactUserinfo } from "./base_url.ts";
 * assert.equal(redactUserinfo("http://token@127.0.0.1:1"), "http://[redacted]@127.0.0.1:1");
 * assert.equal(redactUserinfo("http://u:pw@127.0.0.1:1/v1"), "http://[redacted]@127.0.0.1:1/v1");
 * ```
 */
export function redactUserinfo(url: string): string {
  // Not via URL: it would percent-encode the brackets of "[redacted]".
  return url.replace(USERINFO, `$1${REDACTED}@`);
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // a stray `%` is taken literally, as a browser does
  }
}

/** The user-id and password of a userinfo, percent-decoded (a username alone has an empty password). */
function userPass(userinfo: string): [string, string] {
  const colon = userinfo.indexOf(":");
  return colon < 0
    ? [decode(userinfo), ""]
    : [decode(userinfo.slice(0, colon)), decode(userinfo.slice(colon + 1))];
}

/**
 * The `Authorization` value for a userinfo: `Basic base64(user-id ":" password)`, UTF-8 encoded
 * (RFC 7617 §2 and §2.1, `charset="UTF-8"`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { basicAuthorization } from "./base_url.ts";
 * assert.equal(basicAuthorization("Aladdin:open%20sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
 * assert.equal(basicAuthorization("token"), `Basic ${btoa("token:")}`);
 * ```
 */
export function basicAuthorization(userinfo: string): string {
  const [user, password] = userPass(userinfo);
  const bytes = ENCODER.encode(`${user}:${password}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

/**
 * The secrets a base URL holds, for the logger to mask wherever they appear: the password (as
 * written and decoded) — or the username when it stands alone — and the `Basic` credential.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { baseUrlSecrets } from "./base_url.ts";
 * assert.deepEqual(baseUrlSecrets("http://127.0.0.1:1"), []);
 * assert(baseUrlSecrets("http://u:p%40ss@127.0.0.1:1").includes("p@ss"));
 * ```
 */
export function baseUrlSecrets(url: string): string[] {
  const userinfo = userinfoOf(url);
  if (userinfo === undefined) return [];
  const colon = userinfo.indexOf(":");
  const raw = colon < 0 ? userinfo : userinfo.slice(colon + 1);
  const out = [raw, decode(raw), basicAuthorization(userinfo).slice("Basic ".length)];
  return out.filter((s) => s !== "");
}
