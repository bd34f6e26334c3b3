/**
 * The keys of JAiRouter's `jairouter.security.api-key.keys`: their schema (JAiRouter's `ApiKey`
 * class, bookkeeping fields accepted and ignored) and their mapping onto DAiRouter's client keys.
 * See `jairouter_security.ts` for the table of what is honoured and what refuses the start.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { z } from "zod";
import { SERVICE_KINDS, type ServiceKind } from "../types.ts";
import { parseDateTime } from "./date_time.ts";
import { sha256Hex } from "./digest.ts";
import type { PathSegment } from "./keys.ts";
import { resolveRateLimit } from "./policy.ts";
import type { Problem } from "./problem.ts";
import { MIN_KEY_LENGTH } from "./schema_access.ts";
import { bool, int, num, toText } from "./schema_common.ts";
import type { ApiKeyConfig } from "./types.ts";

const text = () => z.preprocess(toText, z.string());
/** A list, also written as Spring's comma-separated string (`permissions: "read,write"`). */
export const list = (): z.ZodType<string[] | undefined> =>
  z.preprocess(
    (v) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter((s) => s !== "") : v),
    z.array(text().transform((s) => s.trim())),
  ).optional();
/** Bookkeeping JAiRouter keeps beside a key, with no effect on who may call. */
export const inert = (): z.ZodOptional<z.ZodUnknown> => z.unknown().optional();

/** One key of JAiRouter's `api-key.keys`. */
export const jairouterKey = z.strictObject({
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

type KeyInput = z.output<typeof jairouterKey>;

const LEGACY = new Set(["admin", "read", "write", "delete"]);
const BY_LOWER = new Map(SERVICE_KINDS.map((k) => [k.toLowerCase(), k]));

/**
 * Maps JAiRouter's `api-key.keys` (at `base`) onto client keys: keys not enabled are left out,
 * restrictions that cannot be enforced are problems, and each key's secret is kept as a digest.
 */
export function mapJairouterKeys(
  input: readonly KeyInput[],
  base: readonly PathSegment[],
  { problems, warnings }: { problems: Problem[]; warnings: Problem[] },
): ApiKeyConfig[] {
  const out: ApiKeyConfig[] = [];
  const names = new Map<string, number>();
  const digests = new Map<string, number>();
  input.forEach((k, i) => {
    const path: PathSegment[] = [...base, i];
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
