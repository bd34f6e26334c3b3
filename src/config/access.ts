/**
 * Resolution of the `auth` and `admin` sections: every client key and the admin token are hashed
 * (SHA-256) right here, at load time, so the running gateway never holds a plaintext credential.
 * Keys written as `key-file` are read through the reader the caller passes in: `parseConfig`
 * stays pure, and `loadConfigFile` supplies a reader relative to the config file.
 *
 * @module
 */

import type { ServiceKind } from "../types.ts";
import { SERVICE_KINDS } from "../types.ts";
import { parseDateTime } from "./date_time.ts";
import { sha256Hex } from "./digest.ts";
import { ADMIN_DEFAULTS } from "./defaults.ts";
import { resolveJairouterSecurity } from "./jairouter_security.ts";
import type { Origins } from "./locate.ts";
import { resolveRateLimit } from "./policy.ts";
import type { Problem, Warning } from "./problem.ts";
import type { FileConfig } from "./schema.ts";
import { MIN_KEY_LENGTH } from "./schema_access.ts";
import type { AdminConfig, ApiKeyConfig, AuthConfig, ServiceConfig } from "./types.ts";

export { sha256Hex } from "./digest.ts";

/** Reads a file named in the config (`key-file`) and returns its text; throws when it cannot. */
export type ReadFile = (path: string) => string;

/** The resolved sections plus what was found on the way. */
export interface ResolvedAccess {
  readonly auth: AuthConfig;
  readonly admin: AdminConfig;
  /** Unreadable key files, duplicate names or keys: the config cannot be used. */
  readonly problems: Problem[];
  /** Models a key allows that no instance serves (yet). */
  readonly warnings: Warning[];
}

/**
 * Resolves `auth` and `admin`. `services` are the resolved services (to check `models` lists);
 * `readFile` is required only when a key is written as `key-file`.
 */
export function resolveAccess(
  file: FileConfig,
  services: Readonly<Record<ServiceKind, ServiceConfig>>,
  origins: Origins,
  readFile: ReadFile | undefined,
): ResolvedAccess {
  const problems: Problem[] = [];
  const warnings: Warning[] = [];
  const block = file.auth;
  const enabled = block !== undefined && block.enabled !== false;
  const keys: ApiKeyConfig[] = [];
  if (enabled) {
    const models = new Set(SERVICE_KINDS.flatMap((k) => services[k].instances.map((i) => i.name)));
    const byName = new Map<string, number>();
    const byDigest = new Map<string, number>();
    (block.keys ?? []).forEach((k, i) => {
      const path = ["auth", "keys", i];
      const digest = keyDigest(k, [...path, "keyFile"], readFile, problems);
      const earlierName = byName.get(k.name);
      if (earlierName !== undefined) {
        problems.push({
          path: [...path, "name"],
          message: `is already the name of ${origins.locate(["auth", "keys", earlierName]).written}`,
        });
      } else byName.set(k.name, i);
      if (digest === undefined) return;
      const earlierKey = byDigest.get(digest);
      if (earlierKey !== undefined) {
        problems.push({
          path,
          message: `has the same key as ${origins.locate(["auth", "keys", earlierKey]).written}`,
        });
        return;
      }
      byDigest.set(digest, i);
      (k.models ?? []).forEach((m, j) => {
        if (!models.has(m)) {
          warnings.push({
            kind: "unserved-model",
            path: [...path, "models", j],
            message: `names "${m}", which no instance serves`,
          });
        }
      });
      const rateLimit = resolveRateLimit(k.rateLimit, "api-key");
      const expiresAt = k.expiresAt === undefined ? undefined : parseDateTime(k.expiresAt);
      keys.push({
        name: k.name,
        keySha256: digest,
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        ...(k.models !== undefined ? { models: [...new Set(k.models)] } : {}),
        ...(k.services !== undefined ? { services: [...new Set(k.services as ServiceKind[])] } : {}),
        ...(rateLimit ? { rateLimit } : {}),
        ...(k.priority !== undefined ? { priority: k.priority } : {}),
      });
    });
  }
  if (enabled && keys.length === 0 && problems.length === 0) {
    // A lockdown, or the last key just revoked: honoured (a refused reload would keep it working).
    warnings.push({
      kind: "no-key",
      path: ["auth", "keys"],
      message: "lists no key: every client is refused",
    });
  }
  // Kept with auth off too: clients may still send their key there, and it must not reach an
  // instance that has a credential of its own (JAiRouter's name counts while its security is off).
  const header = (block?.headerName ?? (enabled ? undefined : file.jairouter?.security?.apiKey?.headerName))
    ?.toLowerCase();
  const own: AuthConfig = {
    enabled,
    keys,
    ...(header !== undefined && header !== "x-api-key" && header !== "authorization" ? { header } : {}),
  };
  // JAiRouter's security section decides when it is on (and refuses what it cannot honour).
  const jairouter = resolveJairouterSecurity(file.jairouter, enabled);
  problems.push(...jairouter.problems);
  warnings.push(...jairouter.warnings.map((w) => ({ ...w, kind: "jairouter" as const })));
  return { auth: jairouter.auth ?? own, admin: resolveAdmin(file), problems, warnings };
}

type KeyInput = NonNullable<NonNullable<FileConfig["auth"]>["keys"]>[number];

function keyDigest(
  k: KeyInput,
  filePath: Problem["path"],
  readFile: ReadFile | undefined,
  problems: Problem[],
): string | undefined {
  if (k.keySha256 !== undefined) return k.keySha256.toLowerCase();
  if (k.key !== undefined) return sha256Hex(k.key);
  if (k.keyFile === undefined) return undefined;
  if (!readFile) {
    problems.push({
      path: filePath,
      message: "cannot be read: no file reader was given (load the file with loadConfigFile)",
    });
    return undefined;
  }
  let text: string;
  try {
    text = readFile(k.keyFile);
  } catch (err) {
    problems.push({ path: filePath, message: `cannot be read: ${err instanceof Error ? err.message : err}` });
    return undefined;
  }
  // Editors and `echo` add a final newline; a key never ends in whitespace.
  const key = text.trim();
  if (key.length < MIN_KEY_LENGTH) {
    problems.push({
      path: filePath,
      message: key.length === 0
        ? "names an empty file"
        : `holds a key shorter than ${MIN_KEY_LENGTH} characters`,
    });
    return undefined;
  }
  return sha256Hex(key);
}

function resolveAdmin(file: FileConfig): AdminConfig {
  const block = file.admin;
  if (block === undefined) return ADMIN_DEFAULTS;
  const enabled = block.enabled !== false;
  return {
    enabled,
    ...(enabled && block.token !== undefined ? { tokenSha256: sha256Hex(block.token) } : {}),
    pathPrefix: block.pathPrefix ?? ADMIN_DEFAULTS.pathPrefix,
    ...(block.listen ? { listen: block.listen } : {}),
  };
}
