/**
 * The `load-signals` block (global and per service, like `health-check`; a smaller one per
 * instance) and the `load-balance.prefix` options of `prefix-affinity`: schemas, defaults and
 * resolution, kept in one file beside the others.
 *
 * ```yaml
 * model:
 *   load-signals:          # global; a service's own block wins key by key
 *     enabled: true        # default: on for least-load / prefix-affinity services, else off
 *     interval: 1s         # scrape every instance this often (never more often)
 *     timeout: 800ms       # per scrape, body included
 *     stale-after: 3s      # readings older than this are not trusted (default 3 × interval)
 *     max-bytes: 1mb       # largest load report read
 *     source: auto         # auto = the adapter's; or vllm|sglang|tgi|llamacpp|triton|tei|ollama|none
 *   services:
 *     chat:
 *       instances:
 *         - name: llama3
 *           base-url: http://127.0.0.1:8000
 *           load-signals: { source: sglang, url: http://127.0.0.1:8000/metrics }
 * ```
 *
 * @module
 */

import { z } from "zod";
import { LOAD_SOURCES, type LoadSourceKind, type StrategyName } from "../types.ts";
import { bool, duration, int, oneOf, size } from "./schema_common.ts";
import { describeValue } from "./units.ts";

/** `load-signals.source`: a parser, `auto` (the adapter's own) or `none`. */
export const LOAD_SIGNAL_SOURCES = ["auto", "none", ...LOAD_SOURCES] as const;

/** The `load-signals` block of the global level and of a service. */
export const loadSignalsBlock = z.strictObject({
  enabled: bool(),
  interval: duration(0, false),
  timeout: duration(0, false),
  staleAfter: duration(0, false),
  maxBytes: size(),
  source: oneOf(LOAD_SIGNAL_SOURCES),
}).superRefine((block, ctx) => {
  if (block.interval !== undefined && block.staleAfter !== undefined && block.staleAfter < block.interval) {
    ctx.addIssue({
      code: "custom",
      path: ["staleAfter"],
      message: `must be at least interval (${block.interval} ms), or every reading is stale before the next`,
    });
  }
});

/** The `load-signals` block of one instance: where its load report is, or that it has none. */
export const instanceLoadSignals = z.strictObject({
  enabled: bool(),
  source: oneOf(LOAD_SIGNAL_SOURCES),
  url: z.preprocess(
    (v) => (typeof v === "string" ? v.trim() : v),
    z.string().refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
      error: (issue) => `must be an http(s) URL, received ${describeValue(issue.input)}`,
    }),
  ).optional(),
});

/** `load-balance.prefix`: how `prefix-affinity` hashes prompts and how much it remembers. */
export const prefixBlock = z.strictObject({
  blockSize: int(1, 1 << 20),
  maxBlocks: int(1, 1 << 16),
  cacheSize: int(2, 1 << 24),
});

/** Resolved `load-signals` of a service. */
export interface LoadSignalsConfig {
  readonly enabled: boolean;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly staleAfterMs: number;
  readonly maxBytes: number;
  /** `auto`: each instance's adapter decides. */
  readonly source: "auto" | "none" | LoadSourceKind;
}

/** Resolved per-instance `load-signals` (absent keys: the service's). */
export interface InstanceLoadSignalsConfig {
  readonly enabled?: boolean;
  readonly source?: "auto" | "none" | LoadSourceKind;
  /** Full URL of the load report; overrides the adapter's path on the base URL. */
  readonly url?: string;
}

/** Resolved `load-balance.prefix`. */
export interface PrefixConfig {
  readonly blockSize: number;
  readonly maxBlocks: number;
  readonly cacheSize: number;
}

/** Defaults of `load-signals` (`stale-after` defaults to 3 × the resolved interval). */
export const LOAD_SIGNALS_DEFAULTS = {
  intervalMs: 1000,
  timeoutMs: 800,
  maxBytes: 1024 * 1024,
  source: "auto",
} as const;

/** Defaults of `load-balance.prefix`. */
export const PREFIX_DEFAULTS: PrefixConfig = { blockSize: 64, maxBlocks: 512, cacheSize: 8192 };

/** Default of `load-balance.kv-saturation`. */
export const KV_SATURATION_DEFAULT = 0.9;

type Block = z.output<typeof loadSignalsBlock> | undefined;
type PrefixInput = z.output<typeof prefixBlock> | undefined;

function first<T>(...values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}

/**
 * Resolves `load-signals` from the most specific block to the least. Unless a level says
 * `enabled`, signals are on exactly for the strategies that use them.
 */
export function resolveLoadSignals(blocks: readonly Block[], strategy: StrategyName): LoadSignalsConfig {
  const intervalMs = first(...blocks.map((b) => b?.interval)) ?? LOAD_SIGNALS_DEFAULTS.intervalMs;
  return {
    enabled: first(...blocks.map((b) => b?.enabled)) ??
      (strategy === "least-load" || strategy === "prefix-affinity"),
    intervalMs,
    timeoutMs: first(...blocks.map((b) => b?.timeout)) ?? LOAD_SIGNALS_DEFAULTS.timeoutMs,
    staleAfterMs: first(...blocks.map((b) => b?.staleAfter)) ?? 3 * intervalMs,
    maxBytes: first(...blocks.map((b) => b?.maxBytes)) ?? LOAD_SIGNALS_DEFAULTS.maxBytes,
    source: first(...blocks.map((b) => b?.source)) ?? LOAD_SIGNALS_DEFAULTS.source,
  };
}

/** Resolves `load-balance.prefix` key by key. */
export function resolvePrefix(blocks: readonly PrefixInput[]): PrefixConfig {
  return {
    blockSize: first(...blocks.map((b) => b?.blockSize)) ?? PREFIX_DEFAULTS.blockSize,
    maxBlocks: first(...blocks.map((b) => b?.maxBlocks)) ?? PREFIX_DEFAULTS.maxBlocks,
    cacheSize: first(...blocks.map((b) => b?.cacheSize)) ?? PREFIX_DEFAULTS.cacheSize,
  };
}
