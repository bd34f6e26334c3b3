/**
 * Which instances have a load report, where it is, and their {@linkcode InstanceSignal}: from the
 * adapter's declared capability (`Adapter.loadSource`) and the `load-signals` config of the
 * service and the instance. Kept here, not in the gateway, so the rule has one home and a test.
 *
 * Source: the instance's `load-signals.source`, else the service's; `auto` means the adapter's own
 * (none for adapters without one: OpenAI-compatible servers such as SGLang or TGI need `source`),
 * `none` turns scraping off. URL: the instance's `load-signals.url`, else the source's path on the
 * base URL (`/api/ps` for Ollama, the adapter's path when it is the adapter's source, else
 * `/metrics`). Headers: the same as the health probe's (the instance's key and headers). Credentials
 * written in `load-signals.url` (`http://user:password@host/metrics`) are taken out of it, as
 * those of a base URL are, and sent as `Authorization: Basic`; being written for that URL, they
 * replace the instance's own `Authorization` on its scrapes.
 *
 * @module
 */

import { basicAuthorization, userinfoOf, withoutUserinfo } from "../config/base_url.ts";
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

/** Where an instance's load report is: its parser, URL, and the credentials its URL carried. */
export interface LoadSource {
  readonly source: LoadSourceKind;
  /** The URL to fetch, never with credentials in it. */
  readonly url: string;
  /** `Basic …` from credentials written in `load-signals.url`. */
  readonly authorization?: string;
}

/** A configured load URL without its userinfo, which becomes an `Authorization: Basic` value. */
function ownUrl(source: LoadSourceKind, url: string): LoadSource {
  const userinfo = userinfoOf(url);
  if (userinfo === undefined) return { source, url };
  return { source, url: withoutUserinfo(url), authorization: basicAuthorization(userinfo) };
}

/**
 * The load source of an instance, or `undefined` when it has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vllmAdapter } from "../adapters/vllm.ts";
 * import { loadSourceOf } from "./targets.ts";
 * const u = {
 *   id: "i", service: "chat" as const, model: "m", stats: { inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 },
 *   adapter: vllmAdapter, target: { baseUrl: "http://127.0.0.1:8000", headers: {} },
 *   config: { loadSignals: { url: "http://u:pw@127.0.0.1:8002/metrics" } },
 * };
 * const config = { enabled: true, intervalMs: 1000, timeoutMs: 800, staleAfterMs: 3000, maxBytes: 1 << 20, source: "auto" as const };
 * assert.deepEqual(loadSourceOf(u, config), {
 *   source: "vllm", url: "http://127.0.0.1:8002/metrics", authorization: `Basic ${btoa("u:pw")}`,
 * });
 * ```
 */
export function loadSourceOf(u: SignalInstance, service: LoadSignalsConfig): LoadSource | undefined {
  const own = u.config.loadSignals;
  if (own?.enabled === false) return undefined;
  const wanted = own?.source ?? service.source;
  if (wanted === "none") return undefined;
  const declared = u.adapter.loadSource;
  const source = wanted === "auto" ? declared?.parser : wanted;
  if (source === undefined) return undefined;
  if (own?.url !== undefined) return ownUrl(source, own.url);
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
      request: () => scrapeRequest(u, where),
      signal: s,
      inFlight: () => u.stats.inFlight,
    });
  }
  return out;
}

/** The URL and headers of one scrape: the probe's headers, with the load URL's own credentials. */
function scrapeRequest(u: SignalInstance, where: LoadSource): { url: string; headers: Headers } {
  const headers = new Headers(u.adapter.probe(u.service, u.target).headers);
  if (where.authorization !== undefined) headers.set("authorization", where.authorization);
  return { url: where.url, headers };
}
