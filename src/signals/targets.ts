/**
 * Which instances have a load report, where it is, and their {@linkcode InstanceSignal}: from the
 * adapter's declared capability (`Adapter.loadSource`) and the `load-signals` config of the
 * service and the instance. Kept here, not in the gateway, so the rule has one home and a test.
 *
 * Source: the instance's `load-signals.source`, else the service's; `auto` means the adapter's own
 * (none for adapters without one: OpenAI-compatible servers such as SGLang or TGI need `source`),
 * `none` turns scraping off. URL: the instance's `load-signals.url`, else the source's path on the
 * base URL (`/api/ps` for Ollama, the adapter's path when it is the adapter's source, else
 * `/metrics`). Headers: the same as the health probe's (the instance's key and headers).
 *
 * @module
 */

import type { InstanceLoadSignalsConfig, LoadSignalsConfig } from "../config/types.ts";
import type { Adapter, Clock, InstanceTarget, LoadSourceKind, ServiceKind, UpstreamStats } from "../types.ts";
import { InstanceSignal } from "./instance_signal.ts";
import type { ScrapeTarget } from "./scraper.ts";

/** What this module needs to know of one live instance (the runtime's `Upstream` fits). */
export interface SignalInstance {
  readonly id: string;
  readonly service: ServiceKind;
  readonly model: string;
  readonly stats: UpstreamStats;
  readonly adapter: Adapter;
  readonly target: InstanceTarget;
  readonly config: { readonly loadSignals?: InstanceLoadSignalsConfig };
}

/** The source and URL of an instance's load report, or `undefined` when it has none. */
export function loadSourceOf(
  u: SignalInstance,
  service: LoadSignalsConfig,
): { readonly source: LoadSourceKind; readonly url: string } | undefined {
  const own = u.config.loadSignals;
  if (own?.enabled === false) return undefined;
  const wanted = own?.source ?? service.source;
  if (wanted === "none") return undefined;
  const declared = u.adapter.loadSource;
  const source = wanted === "auto" ? declared?.parser : wanted;
  if (source === undefined) return undefined;
  if (own?.url !== undefined) return { source, url: own.url };
  const path = declared?.parser === source ? declared.path : source === "ollama" ? "/api/ps" : "/metrics";
  return { source, url: `${u.target.baseUrl.replace(/\/+$/, "")}${path}` };
}

/**
 * The scrape targets of one service's instances whose signals are on, attaching (or updating) an
 * {@linkcode InstanceSignal} on each one's `stats.engine`, and removing the signal of instances
 * that no longer have a load report — a signal nobody refreshes must not linger.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vllmAdapter } from "../adapters/vllm.ts";
 * import { scrapeTargets } from "./targets.ts";
 * import type { UpstreamStats } from "../types.ts";
 *
 * const stats: UpstreamStats = { inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 };
 * const u = {
 *   id: "chat/qwen@http://127.0.0.1:8000", service: "chat" as const, model: "qwen", stats,
 *   adapter: vllmAdapter, target: { baseUrl: "http://127.0.0.1:8000", headers: {} }, config: {},
 * };
 * const config = { enabled: true, intervalMs: 1000, timeoutMs: 800, staleAfterMs: 3000, maxBytes: 1 << 20, source: "auto" as const };
 * const [t] = scrapeTargets([u], config, () => 0);
 * assert.equal(t.request().url, "http://127.0.0.1:8000/metrics");
 * assert.ok(stats.engine !== undefined);
 * ```
 */
export function scrapeTargets(
  instances: Iterable<SignalInstance>,
  service: LoadSignalsConfig,
  clock: Clock,
): ScrapeTarget[] {
  const out: ScrapeTarget[] = [];
  for (const u of instances) {
    const where = service.enabled ? loadSourceOf(u, service) : undefined;
    if (where === undefined) {
      delete u.stats.engine;
      continue;
    }
    const current = u.stats.engine;
    let s: InstanceSignal;
    if (current instanceof InstanceSignal && current.model === u.model) s = current;
    else {
      s = new InstanceSignal({ clock, staleAfterMs: service.staleAfterMs, model: u.model });
      u.stats.engine = s;
    }
    s.staleAfterMs = service.staleAfterMs;
    out.push({
      id: u.id,
      source: where.source,
      request: () => ({ url: where.url, headers: u.adapter.probe(u.service, u.target).headers }),
      signal: s,
      inFlight: () => u.stats.inFlight,
    });
  }
  return out;
}
