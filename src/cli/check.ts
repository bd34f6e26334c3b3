/**
 * `dairouter check`: reports what loading a config found, and whether it passes.
 *
 * @module
 */

import type { LoadResult } from "../config/load.ts";
import type { ServiceConfig } from "../config/types.ts";
import type { Cli } from "./args.ts";

/** Where the report is printed (`console.log` / `console.error` in `main.ts`). */
export interface CheckOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/**
 * `check`: prints warnings (errors under `--strict`) and a summary; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "../config/load.ts";
 * import { reportCheck } from "./check.ts";
 * const loaded = parseConfig("model: {}\n", { source: "x.yaml", env: {} });
 * const out: string[] = [];
 * const code = reportCheck({ config: "x.yaml", strict: true }, loaded, { out: (l) => out.push(l), err: assert.fail });
 * assert.equal(code, 0);
 * assert.deepEqual(out, ['Config "x.yaml" is valid: 0 instances, 0 warnings.']);
 * ```
 */
export function reportCheck(
  cli: Pick<Cli, "config" | "strict">,
  loaded: LoadResult,
  print: CheckOutput,
): number {
  const level = cli.strict ? "error" : "warning";
  for (const w of loaded.warnings) print.err(`${level}: ${w.message}`);
  const n = Object.values(loaded.config.services).reduce(
    (sum, s) => sum + (s as ServiceConfig).instances.length,
    0,
  );
  const from = loaded.files.length > 1 ? ` (${loaded.files.length} files)` : "";
  if (cli.strict && loaded.warnings.length > 0) {
    print.err(
      `Config "${cli.config}"${from} is refused: ${loaded.warnings.length} warnings are errors under --strict.`,
    );
    return 1;
  }
  print.out(`Config "${cli.config}"${from} is valid: ${n} instances, ${loaded.warnings.length} warnings.`);
  return 0;
}
