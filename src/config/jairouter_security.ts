/**
 * JAiRouter's `jairouter.security` section, mapped onto DAiRouter's client authentication so that
 * a JAiRouter user who migrates is no less protected. The rule: what can be honoured is mapped;
 * a security feature that is on and cannot be honoured stops the start with an error naming the
 * file, line and key — never a warning.
 *
 * | JAiRouter (`jairouter.security.…`)   | DAiRouter                                                  |
 * | ------------------------------------ | ---------------------------------------------------------- |
 * | `enabled` (default false)            | master switch: off = no client authentication, as there    |
 * | `api-key.enabled` (default true)     | `auth.enabled`                                             |
 * | `api-key.header-name` (`X-API-Key`)  | `auth.header-name`                                         |
 * | `keys[].key-id`                      | the key's `name`                                           |
 * | `keys[].key-value` / `key-hash`      | SHA-256 digest / salted SHA-256 (JAiRouter's format)       |
 * | `keys[].enabled` (default false)     | a key not enabled is not accepted                          |
 * | `keys[].expires-at`                  | refused from that moment                                   |
 * | `keys[].permissions`                 | the services the key may use (`admin`, legacy `read`… = all) |
 * | `keys[].rate-limit-per-minute`       | a fixed-window limit of that many requests per minute      |
 * | `keys[].allowed-ip-addresses`, daily quotas | refused: not enforceable per key                    |
 * | `jwt.enabled: true`                  | refused: DAiRouter cannot verify JAiRouter's tokens        |
 * | `sanitization.request/response` on   | refused: DAiRouter does not mask bodies                    |
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { z } from "zod";
import { SERVICE_KINDS, type ServiceKind } from "../types.ts";
import { sha256Hex } from "./digest.ts";
import { parseDateTime } from "./date_time.ts";
import type { PathSegment } from "./keys.ts";
import { resolveRateLimit } from "./policy.ts";
import type { Problem } from "./problem.ts";
import { MIN_KEY_LENGTH } from "./schema_access.ts";
import { bool, int, num, TOKEN, toText } from "./schema_common.ts";
import type { ApiKeyConfig, AuthConfig } from "./types.ts";

const text = () => z.preprocess(toText, z.string());
/** A list, also written as Spring's comma-separated string (`permissions: "read,write"`). */
const list = () =>
  z.preprocess(
    (v) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter((s) => s !== "") : v),
    z.array(text().transform((s) => s.trim())),
  ).optional();
/** Bookkeeping JAiRouter keeps beside a key, with no effect on who may call. */
const inert = () => z.unknown().optional();

const jairouterKey = z.strictObject({
  keyId: text().pipe(z.string().trim().min(1)).optional(),
  keyValue: text().optional(),
  keyHash: text().optional(),
  enabled: bool(),
  expiresAt: text().refine((v) => parseDateTime(v) !== undefined, {
    error: "must be a date-time such as 2026-12-31T23:59:59 (local time) or 2026-12-31T23:59:59Z",
  }).optional(),
  permissions: list(),
  allowedIpAddresses: list(),
  dailyRequestLimit: num(z.number().min(0)),
  dailyTokenLimit: num(z.number().min(0)),
  rateLimitPerMinute: int(0),
  keyPrefix: inert(),
  description: inert(),
  createdAt: inert(),
  createdBy: inert(),
  creatorIpAddress: inert(),
  lastRotatedAt: inert(),
  rotationPeriodDays: inert(),
  quotaAlertThreshold: inert(),
  metadata: inert(),
  usage: inert(),
  expired: inert(),
});

const sanitization = z.strictObject({ enabled: bool(), sensitiveWords: list(), piiPatterns: list() });

/** The `jairouter` section, as far as DAiRouter reads it (see `keys.ts` `readPolicy`). */
export const jairouterSchema = z.strictObject({
  security: z.strictObject({
    enabled: bool(),
    apiKey: z.strictObject({
      enabled: bool(),
      headerName: z.string().trim().refine((v) => TOKEN.test(v), "is not a valid HTTP header name")
        .optional(),
      keys: z.array(jairouterKey).optional(),
      defaultExpirationDays: inert(),
      cacheEnabled: inert(),
      cacheExpirationSeconds: inert(),
    }).optional(),
    jwt: z.strictObject({ enabled: bool() }).optional(),
    sanitization: z.strictObject({ request: sanitization.optional(), response: sanitization.optional() })
      .optional(),
  }).optional(),
});

/** The validated `jairouter` section. */
export type JairouterInput = z.output<typeof jairouterSchema>;
type KeyInput = z.output<typeof jairouterKey>;

/** What the JAiRouter section decides. */
export interface JairouterAuth {
  /** Client authentication, when JAiRouter's security is on; `undefined` leaves it to `auth`. */
  readonly auth?: AuthConfig;
  readonly problems: Problem[];
  readonly warnings: Problem[];
}

const SEC = ["jairouter", "security"] as const;
const LEGACY = new Set(["admin", "read", "write", "delete"]);
const BY_LOWER = new Map(SERVICE_KINDS.map((k) => [k.toLowerCase(), k]));

/**
 * Maps `jairouter.security`. `ownAuth` says whether DAiRouter's own `auth` block is enabled: both
 * on is an error.
 */
export function resolveJairouterSecurity(
  section: JairouterInput | undefined,
  ownAuth: boolean,
): JairouterAuth {
  const sec = section?.security ?? {};
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  checkSanitization(sec.sanitization, problems);
  const on = sec.enabled === true;
  if (sec.jwt?.enabled === true) {
    (on ? problems : warnings).push({
      path: [...SEC, "jwt", "enabled"],
      message: on
        ? "is true: DAiRouter cannot verify JAiRouter's JWTs; give those clients API keys " +
          "(jairouter.security.api-key or auth.keys) and set it to false"
        : "is true, but jairouter.security.enabled is not, so JAiRouter checks no token either: ignored",
    });
  }
  const block = sec.apiKey;
  if (!on) {
    if (block && block.enabled !== false && (block.keys ?? []).length > 0) {
      warnings.push({
        path: [...SEC, "apiKey"],
        message: "lists keys, but jairouter.security.enabled is not true: JAiRouter checks no key then, " +
          "and neither does DAiRouter",
      });
    }
    return { problems, warnings };
  }
  if (ownAuth) {
    problems.push({
      path: [...SEC, "enabled"],
      message: "and auth both set up client authentication: keep one",
    });
  }
  if (block?.enabled === false) {
    if (sec.jwt?.enabled !== true) {
      problems.push({
        path: [...SEC, "apiKey", "enabled"],
        message: "is false while jairouter.security.enabled is true: no client could authenticate " +
          "(JAiRouter refuses every request then); enable API keys or turn security off",
      });
    }
    return { problems, warnings };
  }
  const before = problems.length;
  const keys = mapKeys(block?.keys ?? [], problems, warnings);
  // A key refused for what it asks is reported already; "no key at all" would be noise then.
  if (keys.length === 0 && problems.length === before) {
    problems.push({
      path: [...SEC, "apiKey", ...(block?.keys ? ["keys"] : [])],
      message: "lists no enabled key, so every request would be refused. DAiRouter reads keys from the " +
        "configuration only (JAiRouter can also keep them in its database): list them here or under auth.keys",
    });
  }
  const header = (block?.headerName ?? "X-API-Key").toLowerCase();
  const auth: AuthConfig = {
    enabled: true,
    keys,
    ...(header !== "x-api-key" && header !== "authorization" ? { header } : {}),
  };
  return { auth, problems, warnings };
}

function checkSanitization(block: { request?: Side; response?: Side } | undefined, problems: Problem[]) {
  for (const side of ["request", "response"] as const) {
    const s = block?.[side];
    // JAiRouter's sanitization is on unless disabled: rules written without `enabled` apply.
    const rules = (s?.sensitiveWords?.length ?? 0) + (s?.piiPatterns?.length ?? 0);
    if (s?.enabled === true || (s?.enabled === undefined && rules > 0)) {
      problems.push({
        path: [...SEC, "sanitization", side, ...(s?.enabled === true ? ["enabled"] : [])],
        message: `is on: DAiRouter does not mask ${side} bodies, so it cannot honour this; ` +
          "set enabled: false to migrate (and mask sensitive data elsewhere)",
      });
    }
  }
}
type Side = z.output<typeof sanitization>;

function mapKeys(input: readonly KeyInput[], problems: Problem[], warnings: Problem[]): ApiKeyConfig[] {
  const out: ApiKeyConfig[] = [];
  const names = new Map<string, number>();
  const digests = new Map<string, number>();
  input.forEach((k, i) => {
    const path: PathSegment[] = [...SEC, "apiKey", "keys", i];
    if (k.enabled !== true) {
      warnings.push({ path, message: "is not enabled (a JAiRouter key needs enabled: true): not accepted" });
      return;
    }
    const refusals = unenforceable(k, path);
    problems.push(...refusals);
    const secret = secretOf(k, path, problems);
    const name = k.keyId ?? `jairouter-key-${i}`;
    if (names.has(name)) {
      problems.push({
        path: [...path, "keyId"],
        message: `is already the key-id of keys[${names.get(name)}]`,
      });
    }
    names.set(name, i);
    if (!secret || refusals.length > 0) return;
    if (!secret.keySalt) {
      if (digests.has(secret.keySha256)) {
        problems.push({ path, message: `has the same key as keys[${digests.get(secret.keySha256)}]` });
      }
      digests.set(secret.keySha256, i);
    }
    const services = servicesOf(k.permissions, path, warnings);
    const rateLimit = k.rateLimitPerMinute
      ? resolveRateLimit(
        { algorithm: "fixed-window", capacity: k.rateLimitPerMinute, window: 60_000 },
        "api-key",
      )
      : undefined;
    const expiresAt = k.expiresAt === undefined ? undefined : parseDateTime(k.expiresAt);
    out.push({
      name,
      ...secret,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      ...(services ? { services } : {}),
      ...(rateLimit ? { rateLimit } : {}),
    });
  });
  return out;
}

/** Restrictions JAiRouter enforces per key and DAiRouter cannot: each one refuses the start. */
function unenforceable(k: KeyInput, path: PathSegment[]): Problem[] {
  const out: Problem[] = [];
  if ((k.allowedIpAddresses ?? []).length > 0) {
    out.push({
      path: [...path, "allowedIpAddresses"],
      message: "restricts the key to client addresses, which DAiRouter cannot enforce per key: remove it " +
        "(and restrict addresses in a firewall or proxy)",
    });
  }
  for (const quota of ["dailyRequestLimit", "dailyTokenLimit"] as const) {
    if ((k[quota] ?? 0) > 0) {
      out.push({
        path: [...path, quota],
        message:
          "is a daily quota, which DAiRouter does not have: remove it (rate-limit-per-minute is honoured)",
      });
    }
  }
  return out;
}

function secretOf(k: KeyInput, path: PathSegment[], problems: Problem[]) {
  if (k.keyValue !== undefined && k.keyHash !== undefined) {
    problems.push({ path, message: "sets both key-value and key-hash: keep one" });
    return undefined;
  }
  if (k.keyValue !== undefined) {
    if (k.keyValue.length < MIN_KEY_LENGTH) {
      problems.push({
        path: [...path, "keyValue"],
        message: `must be at least ${MIN_KEY_LENGTH} characters long`,
      });
      return undefined;
    }
    return { keySha256: sha256Hex(k.keyValue) };
  }
  if (k.keyHash !== undefined) {
    // JAiRouter's ApiKeyHashUtil: base64(salt) ":" base64(SHA-256(salt bytes, then the key's UTF-8)).
    const [salt, hash, extra] = k.keyHash.trim().split(":");
    const saltBytes = Buffer.from(salt ?? "", "base64");
    const hashBytes = Buffer.from(hash ?? "", "base64");
    if (extra !== undefined || saltBytes.length === 0 || hashBytes.length !== 32) {
      problems.push({
        path: [...path, "keyHash"],
        message: "must be JAiRouter's salted hash, base64(salt):base64(SHA-256 of salt and key)",
      });
      return undefined;
    }
    return { keySha256: hashBytes.toString("hex"), keySalt: saltBytes.toString("hex") };
  }
  problems.push({ path, message: "has neither key-value nor key-hash" });
  return undefined;
}

/** JAiRouter's `permissions` as services; `undefined` = every service. */
function servicesOf(
  permissions: readonly string[] | undefined,
  path: PathSegment[],
  warnings: Problem[],
): ServiceKind[] | undefined {
  const at = [...path, "permissions"];
  if (!permissions || permissions.length === 0) {
    warnings.push({
      path,
      message: "has no permissions: JAiRouter refuses it on every service, and so does DAiRouter",
    });
    return [];
  }
  const services = new Set<ServiceKind>();
  for (const p of permissions) {
    const lower = p.toLowerCase();
    if (LEGACY.has(lower)) {
      if (lower !== "admin") {
        warnings.push({
          path: at,
          message:
            `grants "${p}", a legacy permission JAiRouter converts to every service: so does DAiRouter`,
        });
      }
      return undefined;
    }
    const kind = BY_LOWER.get(lower);
    if (kind) services.add(kind);
    else {warnings.push({
        path: at,
        message: `names "${p}", which is not a service (${SERVICE_KINDS.join(", ")}): ignored`,
      });}
  }
  return services.size === SERVICE_KINDS.length ? undefined : [...services];
}
