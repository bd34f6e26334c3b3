/**
 * A gateway's background checks: per service, one active health prober (for the instances with
 * an active `health-check`) and one engine load-signal scraper (`load-signals`). Both read their
 * targets from the live table at every round, and both are rebuilt when a reload changes the
 * services' intervals and timeouts. A failed scrape is counted
 * (`dairouter_engine_scrape_failures_total`), and logged like a health ejection: a `warn` when an
 * instance's scrapes start failing, an `info` when they recover — once per change, not per scrape.
 *
 * @module
 */

import type { Config } from "../config/types.ts";
import { createProber, isActivelyProbed, planProbe, type Prober, type TcpConnect } from "../health/mod.ts";
import type { Logger } from "../observe/logger.ts";
import type { Metrics } from "../observe/metrics.ts";
import type { Runtime } from "../proxy/runtime.ts";
import {
  createLoadScraper,
  type LoadScraper,
  type ScrapeOutcome,
  type ScrapeTarget,
} from "../signals/scraper.ts";
import { scrapeTargets } from "../signals/targets.ts";
import type { Clock, ServiceKind } from "../types.ts";
import { SERVICE_KINDS } from "../types.ts";

/** Options of {@linkcode createChecks}. */
export interface ChecksOptions {
  /** The running configuration and table (read at every round). */
  readonly config: () => Config;
  readonly runtime: () => Runtime;
  readonly fetch: typeof fetch;
  /** Opens TCP connections for `health-check.type: tcp`. */
  readonly connect?: TcpConnect;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where failed scrapes are counted. */
  readonly metrics: Pick<Metrics, "recordEngineScrapeFailure">;
  /** A scrape of `kind`'s engines ended: a slot may have freed without a request ending. */
  readonly onScrape: (kind: ServiceKind) => void;
}

/** The probers and scrapers of a gateway. */
export interface Checks {
  /** Attaches (or drops) each instance's engine signal: at start and after each reload. */
  attach(): void;
  /** Starts probing and scraping (once). */
  start(): void;
  /** Replaces the probers and scrapers after a reload, when they run. */
  restart(): void;
  /** Stops them; resolves when every round under way has ended. */
  stop(): Promise<void>;
}

/** The instances of `kind` with an active probe, as the prober's targets (read every round). */
function* probeTargets(runtime: Runtime, kind: ServiceKind) {
  for (const u of runtime.upstreams) {
    if (u.service !== kind) continue;
    const plan = planProbe(u.config.health, () => u.adapter.probe(u.service, u.target), u.target.baseUrl);
    if (plan) yield { id: u.id, state: u.health, ...plan };
  }
}

/** One prober per service that has an actively probed instance; interval and timeout per service. */
function makeProbers(config: Config, options: ChecksOptions): Prober[] {
  return SERVICE_KINDS.filter((k) => config.services[k].instances.some((i) => isActivelyProbed(i.health)))
    .map((kind) =>
      createProber({
        fetch: options.fetch,
        connect: options.connect,
        clock: options.clock,
        intervalMs: config.services[kind].health.intervalMs,
        timeoutMs: config.services[kind].health.timeoutMs,
        targets: () => probeTargets(options.runtime(), kind),
        onError: (error) =>
          options.logger.error("health probe error", { service: kind, error: String(error) }),
      })
    );
}

/**
 * What one scrape of `kind` tells the operator: a failure is counted by instance and reason; the
 * first failure after good scrapes is a `warn`, the first success after failures an `info`.
 */
function reportScrape(kind: ServiceKind, o: ScrapeOutcome, options: ChecksOptions): void {
  if (o.result === "error") options.metrics.recordEngineScrapeFailure(kind, o.id, o.reason ?? "network");
  if (o.transition === undefined) return;
  const fields = { event: "load_signal", service: kind, instance: o.id };
  if (o.transition === "failing") {
    options.logger.warn("load signal scrape failing", { ...fields, reason: o.reason, error: o.detail });
  } else options.logger.info("load signal scrape recovered", fields);
}

/** One load-signal scraper per service that has `load-signals` on and instances. */
function makeScrapers(
  config: Config,
  options: ChecksOptions,
  targets: (kind: ServiceKind) => ScrapeTarget[],
): LoadScraper[] {
  return SERVICE_KINDS.filter((k) =>
    config.services[k].loadSignals.enabled && config.services[k].instances.length > 0
  )
    .map((kind) => {
      const s = config.services[kind].loadSignals;
      return createLoadScraper({
        fetch: options.fetch,
        clock: options.clock,
        intervalMs: s.intervalMs,
        timeoutMs: s.timeoutMs,
        maxBytes: s.maxBytes,
        targets: () => targets(kind),
        onScrape: (outcome) => {
          reportScrape(kind, outcome, options);
          options.onScrape(kind);
        },
        onError: (error) =>
          options.logger.error("load signal error", { service: kind, error: String(error) }),
      });
    });
}

/**
 * Creates the checks (not started).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "../config/load.ts";
 * import { createGateway } from "../gateway.ts";
 * import { createChecks } from "./checks.ts";
 * const yaml = 'model:\n  services:\n    chat:\n      instances:\n        - { name: m, base-url: "http://10.0.0.1:8000" }\n';
 * const { config } = parseConfig(yaml, { source: "x.yaml", env: {} });
 * const gateway = createGateway(config, { clock: () => 0, random: () => 0.5, fetch, write: () => {} });
 * const probed: string[] = [];
 * const fetchFake = (req: RequestInfo | URL) => (probed.push(new Request(req).url), Promise.resolve(new Response("ok")));
 * const checks = createChecks({
 *   config: () => config, runtime: gateway.runtime, fetch: fetchFake as typeof fetch,
 *   clock: () => 0, logger: gateway.logger, metrics: gateway.metrics, onScrape: () => {},
 * });
 * checks.start(); // the first round runs at once
 * await checks.stop();
 * assert.equal(probed.length, 1);
 * assert.ok(probed[0].startsWith("http://10.0.0.1:8000/"));
 * ```
 */
export function createChecks(options: ChecksOptions): Checks {
  // The targets are recomputed at every tick, which also attaches (or drops) `stats.engine`.
  const signalTargets = (kind: ServiceKind) =>
    scrapeTargets(
      options.runtime().upstreams.filter((u) => u.service === kind),
      options.config().services[kind].loadSignals,
      options.clock,
    );

  let probers: Prober[] = [];
  let scrapers: LoadScraper[] = [];
  let running = false;
  return {
    attach() {
      for (const kind of SERVICE_KINDS) signalTargets(kind);
    },
    start() {
      if (running) return;
      running = true;
      probers = makeProbers(options.config(), options);
      for (const p of probers) p.start();
      scrapers = makeScrapers(options.config(), options, signalTargets);
      for (const s of scrapers) s.start();
    },
    restart() {
      if (!running) return;
      const oldProbers = probers;
      probers = makeProbers(options.config(), options);
      for (const p of probers) p.start();
      for (const p of oldProbers) void p.stop();
      const oldScrapers = scrapers;
      scrapers = makeScrapers(options.config(), options, signalTargets);
      for (const s of scrapers) s.start();
      for (const s of oldScrapers) void s.stop();
    },
    async stop() {
      running = false;
      await Promise.all([...probers.map((p) => p.stop()), ...scrapers.map((s) => s.stop())]);
      probers = [];
      scrapers = [];
    },
  };
}
