/**
 * Blocks that JAiRouter and DAiRouter read differently when they leave out `enabled`.
 *
 * DAiRouter's rule is "a block written is on" (`policy.ts`): a `rate-limit` or `fallback` with
 * settings but no `enabled` is enforced. JAiRouter binds such a block with `enabled = false`
 * (`ModelRouterProperties.RateLimitConfig` and `FallbackConfig`) and consults it only when
 * `Boolean.TRUE.equals(enabled)` (`RateLimitManager`, `ComponentFactory.createFallbackStrategy`),
 * so there the same file runs without that limit or fallback. DAiRouter keeps its rule — a limit
 * someone wrote is meant to hold — and says so in a warning, at the block's file and line, so that
 * whoever moves from JAiRouter writes the intent down.
 *
 * `circuit-breaker` is not among them: JAiRouter's `CircuitBreakerManager` takes the global
 * thresholds and runs a breaker for every instance whatever `enabled` says (only an instance's
 * own `enabled: false` skips it), which is what DAiRouter does with a block written without it.
 *
 * @module
 */

import type { PathSegment } from "./keys.ts";
import type { Warning } from "./problem.ts";
import { SERVICE_KINDS } from "../types.ts";
import type { FileConfig, RateLimitInput } from "./schema.ts";

/** A level that may hold the blocks: `model`, `model.services`, a service or an instance. */
interface LevelInput {
  readonly rateLimit?: RateLimitInput;
  readonly fallback?: { readonly enabled?: boolean };
}

/** The blocks concerned, by their normalised key. */
const BLOCKS = ["rateLimit", "fallback"] as const;

const MESSAGE = 'has settings but no "enabled": JAiRouter leaves such a block off, DAiRouter enforces it; ' +
  "write enabled: true or enabled: false to silence this warning";

/**
 * One warning per `rate-limit` and `fallback` block (global, service and instance level) written
 * with settings but without an `enabled` key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { implicitEnabledWarnings } from "./implicit_enabled.ts";
 * const warnings = implicitEnabledWarnings({
 *   model: { services: { chat: { rateLimit: { capacity: 1, rate: 1 }, fallback: { enabled: true } } } },
 * } as never);
 * assert.deepEqual(warnings.map((w) => w.path), [["model", "services", "chat", "rateLimit"]]);
 * ```
 */
export function implicitEnabledWarnings(file: FileConfig): Warning[] {
  const warnings: Warning[] = [];
  const check = (level: LevelInput | undefined, path: readonly PathSegment[]) => {
    for (const key of BLOCKS) {
      const block = level?.[key];
      if (block && block.enabled === undefined && Object.values(block).some((v) => v !== undefined)) {
        warnings.push({ kind: "jairouter", path: [...path, key], message: MESSAGE });
      }
    }
  };
  const model = file.model;
  check(model, ["model"]);
  check(model.services, ["model", "services"]);
  for (const kind of SERVICE_KINDS) {
    const service = model.services?.[kind];
    const at = ["model", "services", kind];
    check(service, at);
    service?.instances?.forEach((instance, i) => check(instance, [...at, "instances", i]));
  }
  return warnings;
}
