/**
 * Schemas of the two access-control sections: `auth` (client API keys) and `admin` (the admin
 * API's token and address). Messages about a key or a token never quote its value: a config error
 * is printed to the journal, and a secret must not end up there.
 *
 * @module
 */

import { z } from "zod";
import { SERVICE_KINDS } from "../types.ts";
import { parseDateTime } from "./date_time.ts";
import { normalizeKey } from "./keys.ts";
import { bool, rateLimit, TOKEN, toText } from "./schema_common.ts";
import { priorityLevel } from "./queue.ts";
import { describeValue } from "./units.ts";

/** Service names a key may be limited to (`auth.keys[].services`). */
const SERVICE_NAMES = SERVICE_KINDS as unknown as readonly [string, ...string[]];

/** Shortest accepted client API key (a key from `key` or `key-file`). */
export const MIN_KEY_LENGTH = 8;
/** Shortest accepted admin token. */
export const MIN_TOKEN_LENGTH = 16;

const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;
/** A path prefix the gateway may mount something under (the admin API, the console). */
export const PREFIX = /^(\/[A-Za-z0-9._~-]+)+$/;
/** Paths the gateway serves itself: an admin prefix (or console path) over them would hide them. */
export const RESERVED = ["/v1", "/healthz", "/readyz", "/metrics"];

/** A secret string (numbers are text). Its length is checked by the block, only when it is in use. */
const secret = () => z.preprocess(toText, z.string()).optional();

/** The complaint about a secret that is too short, without quoting it. */
function secretProblem(value: string, what: string, min: number): string | undefined {
  if (value.length === 0) return `must not be empty (set the ${what})`;
  if (value.length < min) {
    return `must be at least ${min} characters long (a random ${what}, e.g. \`openssl rand -hex 32\`)`;
  }
  return undefined;
}

const apiKey = z.strictObject({
  name: z.preprocess(toText, z.string().trim().min(1)),
  key: secret(),
  keyFile: z.preprocess(toText, z.string().trim().min(1)).optional(),
  keySha256: z.string().trim().refine((v) => HEX_DIGEST.test(v), {
    error: "must be 64 hexadecimal digits (the SHA-256 of the key, e.g. `printf %s KEY | sha256sum`)",
  }).optional(),
  models: z.array(z.preprocess(toText, z.string().trim().min(1))).optional(),
  services: z.array(
    z.preprocess(
      (v) => (typeof v === "string" ? normalizeKey(["model", "services"], v.trim()) : v),
      z.enum(SERVICE_NAMES),
    ),
  ).optional(),
  expiresAt: z.preprocess(toText, z.string()).refine((v) => parseDateTime(v) !== undefined, {
    error: "must be a date-time such as 2026-12-31T23:59:59Z (without an offset: the host's local time)",
  }).optional(),
  rateLimit: rateLimit.optional(),
  priority: priorityLevel,
}).superRefine((k, ctx) => {
  const sources = [k.key, k.keyFile, k.keySha256].filter((v) => v !== undefined).length;
  if (sources !== 1) {
    ctx.addIssue({
      code: "custom",
      path: [],
      message: `must set exactly one of key, key-file or key-sha256, found ${sources}`,
    });
  }
});

/** `auth`: client API keys. A written block is enabled unless it says `enabled: false`. */
export const auth = z.strictObject({
  enabled: bool(),
  headerName: z.string().trim().refine((v) => TOKEN.test(v), "is not a valid HTTP header name").optional(),
  keys: z.array(apiKey).optional(),
}).superRefine((block, ctx) => {
  if (block.enabled === false) return;
  (block.keys ?? []).forEach((k, i) => {
    const problem = k.key === undefined ? undefined : secretProblem(k.key, "key", MIN_KEY_LENGTH);
    if (problem) ctx.addIssue({ code: "custom", path: ["keys", i, "key"], message: problem });
  });
});

/** A listen address `host:port`, `[v6]:port` or a bare port (then on 127.0.0.1). */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses a listen address; `undefined` when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseListen } from "./schema_access.ts";
 * assert(parseListen("127.0.0.1:9091")?.port === 9091);
 * assert(parseListen("[::1]:9091")?.host === "::1");
 * assert(parseListen("9091")?.host === "127.0.0.1");
 * assert(parseListen("nowhere") === undefined);
 * ```
 */
export function parseListen(text: string): ListenAddress | undefined {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  const host = m[1] === undefined ? "127.0.0.1" : m[1].replace(/^\[|\]$/g, "");
  return { host, port };
}

/** `admin`: the admin API. A written block is enabled unless it says `enabled: false`. */
export const admin = z.strictObject({
  enabled: bool(),
  token: secret(),
  pathPrefix: z.string().trim().transform((v) => v.replace(/\/+$/, "")).refine(
    (v) => PREFIX.test(v) && !RESERVED.some((r) => v === r || v.startsWith(`${r}/`)),
    {
      error: (issue) =>
        `must be a path such as "/admin", outside ${RESERVED.join(", ")}, received ${
          describeValue(issue.input)
        }`,
    },
  ).optional(),
  listen: z.preprocess(toText, z.string()).transform((v, ctx) => {
    const addr = parseListen(v);
    if (!addr) {
      ctx.issues.push({
        code: "custom",
        message: `must be "host:port" (e.g. "127.0.0.1:9091"), received ${describeValue(v)}`,
        input: v,
      });
      return z.NEVER;
    }
    return addr;
  }).optional(),
}).superRefine((block, ctx) => {
  if (block.enabled === false) return;
  const problem = block.token === undefined
    ? "is required when the admin API is enabled"
    : secretProblem(block.token, "token", MIN_TOKEN_LENGTH);
  if (problem) ctx.addIssue({ code: "custom", path: ["token"], message: problem });
});
