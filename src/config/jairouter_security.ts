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

import { z } from "zod";
import { inert, jairouterKey, list, mapJairouterKeys } from "./jairouter_keys.ts";
import type { Problem } from "./problem.ts";
import { bool, TOKEN } from "./schema_common.ts";
import type { AuthConfig } from "./types.ts";

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

/** What the JAiRouter section decides. */
export interface JairouterAuth {
  /** Client authentication, when JAiRouter's security is on; `undefined` leaves it to `auth`. */
  readonly auth?: AuthConfig;
  readonly problems: Problem[];
  readonly warnings: Problem[];
}

const SEC = ["jairouter", "security"] as const;

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
  const keys = mapJairouterKeys(block?.keys ?? [], [...SEC, "apiKey", "keys"], { problems, warnings });
  // A key refused for what it asks is reported already; "no key at all" would be noise then.
  if (keys.length === 0 && problems.length === before) {
    if ((block?.keys ?? []).length > 0) {
      // Every key listed is disabled or expired: a revocation, honoured as JAiRouter does (a
      // refused reload would leave the revoked keys working).
      warnings.push({
        path: [...SEC, "apiKey", "keys"],
        message: "lists no enabled key: every request is refused until one is enabled",
      });
    } else {
      problems.push({
        path: [...SEC, "apiKey", ...(block?.keys ? ["keys"] : [])],
        message: "lists no enabled key, so every request would be refused. DAiRouter reads keys from the " +
          "configuration only (JAiRouter can also keep them in its database): list them here or under auth.keys",
      });
    }
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
