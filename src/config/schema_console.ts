/**
 * The `console:` section: the live operator console (`src/console/`). Off unless
 * `console.enabled: true`; served under `path` (default `/ui`); its read-only views need the admin
 * token unless `public-read: true`. Kept apart from the other sections so it stays small and local.
 *
 * @module
 */

import { z } from "zod";
import type { Problem } from "./problem.ts";
import { PREFIX, RESERVED } from "./schema_access.ts";
import { bool } from "./schema_common.ts";
import type { AdminConfig, ConsoleConfig } from "./types.ts";
import { describeValue } from "./units.ts";

/** `console` defaults: off, under `/ui`, data behind the admin token. */
export const CONSOLE_DEFAULTS: ConsoleConfig = { enabled: false, path: "/ui", publicRead: false };

/** The `console` block as written. */
export const consoleBlock = z.strictObject({
  enabled: bool(),
  path: z.string().trim().transform((v) => v.replace(/\/+$/, "")).refine(
    (v) => PREFIX.test(v) && !RESERVED.some((r) => v === r || v.startsWith(`${r}/`)),
    {
      error: (issue) =>
        `must be a path such as "/ui", outside ${RESERVED.join(", ")}, received ${
          describeValue(issue.input)
        }`,
    },
  ).optional(),
  publicRead: bool(),
});

/** What {@linkcode resolveConsole} reads of the written block. */
export type ConsoleInput = z.output<typeof consoleBlock>;

function nested(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/**
 * Applies the defaults and checks the block against the admin section: without `public-read` only
 * the admin token opens the console, so one must be configured; the console and the admin API
 * must not share a path.
 */
export function resolveConsole(
  block: ConsoleInput | undefined,
  admin: AdminConfig,
): { console: ConsoleConfig; problems: Problem[] } {
  const resolved: ConsoleConfig = {
    enabled: block?.enabled ?? CONSOLE_DEFAULTS.enabled,
    path: block?.path ?? CONSOLE_DEFAULTS.path,
    publicRead: block?.publicRead ?? CONSOLE_DEFAULTS.publicRead,
  };
  const problems: Problem[] = [];
  if (resolved.enabled && !resolved.publicRead && !admin.enabled) {
    problems.push({
      path: ["console", "enabled"],
      message: "needs the admin token (an admin: block with a token) unless console.public-read is true",
    });
  }
  if (resolved.enabled && nested(resolved.path, admin.pathPrefix)) {
    problems.push({
      path: ["console", "path"],
      message: `must not overlap admin.path-prefix ${JSON.stringify(admin.pathPrefix)}, received ${
        JSON.stringify(resolved.path)
      }`,
    });
  }
  return { console: resolved, problems };
}
