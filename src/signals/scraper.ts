/**
 * The load-signal scheduler: every `intervalMs` it scrapes each target's load source (a `GET`, no
 * body) concurrently, reads the answer as it streams in, and records the reading on the target's
 * {@linkcode InstanceSignal}. Runs on the fixed-rate ticker (`../ticker.ts`) that `health/prober.ts`
 * uses too; fetch, clock and timers are injected.
 *
 * Bounds, so that nothing an engine sends can stall or bloat the gateway:
 * - one scrape per target at a time, and never more than one per tick: a target whose previous
 *   scrape is still running is skipped (counted in {@linkcode LoadScraper.skipped}) while the others
 *   go ahead — a hung engine delays only its own signal, which then goes stale;
 * - `timeoutMs` covers headers and body; `maxBytes` caps the body (the rest is cancelled, and the
 *   scrape counts as failed); lines and samples are bounded by the reader (`prometheus.ts`);
 * - redirects are not followed (a load report judges the host it was asked of);
 * - a failed scrape (network, status, size, garbage, a total that is not finite, timeout) keeps the
 *   previous reading, which ages out after `stale-after`, and never throws out of the scheduler.
 *
 * @module
 */

import { checkTickerOptions, createTicker, type TickerOptions, timeoutSchedule } from "../ticker.ts";
import type { LoadSourceKind } from "../types.ts";
import { type EngineReading, PROM_ENGINES, readPromEngine, unusableReading, wantedNames } from "./engines.ts";
import type { InstanceSignal } from "./instance_signal.ts";
import { readOllamaPs } from "./ollama_ps.ts";
import { PromTextReader } from "./prometheus.ts";

/** One instance to scrape. */
export interface ScrapeTarget {
  /** Instance id, echoed in outcomes. */
  readonly id: string;
  /** Which parser reads the answer. */
  readonly source: LoadSourceKind;
  /** URL and headers (auth) of the load source; called once per scrape. */
  readonly request: () => { readonly url: string; readonly headers: Headers };
  /** Where the reading goes. */
  readonly signal: InstanceSignal;
  /** The gateway's in-flight count of the instance, snapshot when a reading lands. */
  readonly inFlight: () => number;
}

/**
 * Why a scrape failed, in a few fixed words (a metric label): `timeout` (no whole answer within
 * `timeoutMs`), `status` (an answer other than 200, redirects included), `network` (refused,
 * reset, unresolvable), `too_large` (over `maxBytes`), `unreadable` (no load metrics in it, not
 * JSON, a total that is not finite).
 */
export type ScrapeFailureReason = "timeout" | "status" | "network" | "too_large" | "unreadable";

/** What happened to one scrape. */
export interface ScrapeOutcome {
  readonly id: string;
  /** `ok`: recorded. `error`: recorded as a failure. `aborted`: cut by `stop()`. `busy`: previous scrape still running. */
  readonly result: "ok" | "error" | "aborted" | "busy";
  /** `HTTP 200`, `timeout after 500 ms`, `body larger than 1048576 bytes`, `no load metrics found`… */
  readonly detail: string;
  /** Why it failed (`result: "error"` only). */
  readonly reason?: ScrapeFailureReason;
  /**
   * The scrape changed the target's state: `failing` — it failed after a good one (or as the
   * first); `recovered` — it succeeded after failures. Absent while the state holds, so a sink
   * that logs transitions logs once per change, not once per scrape.
   */
  readonly transition?: "failing" | "recovered";
  readonly durationMs: number;
  readonly reading?: EngineReading;
}

/** Options of {@linkcode createLoadScraper}; `schedule` also arms the per-scrape deadlines. */
export interface LoadScraperOptions extends TickerOptions {
  readonly fetch: typeof fetch;
  /** Per-scrape deadline, body included (> 0). */
  readonly timeoutMs: number;
  /** Largest body read (> 0). @default {1048576} */
  readonly maxBytes?: number;
  /** The current targets; read at every tick, so config reloads take effect. */
  readonly targets: () => Iterable<ScrapeTarget>;
  readonly onScrape?: (outcome: ScrapeOutcome) => void;
  /** Errors that are nobody's reading: `targets()` or `request()` throwing, callbacks throwing. */
  readonly onError?: (error: unknown) => void;
}

/** A running or idle scraper. */
export interface LoadScraper {
  /** Scrapes now, then every `intervalMs`. Does nothing when already started. */
  start(): void;
  /** Cancels the schedule, aborts scrapes in flight and waits for them to settle. */
  stop(): Promise<void>;
  /** Scrapes every target that is not busy, concurrently; never rejects. */
  runOnce(): Promise<readonly ScrapeOutcome[]>;
  readonly started: boolean;
  /** Scrapes skipped because the target's previous one was still running. */
  readonly skipped: number;
}

/** Default cap on a load report's body. */
export const DEFAULT_MAX_BYTES = 1024 * 1024;

/** A failure the scraper names itself (the others are the network's). */
class ScrapeError extends Error {
  constructor(message: string, readonly reason: ScrapeFailureReason) {
    super(message);
  }
}

function check(options: LoadScraperOptions): void {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot create load scraper: options must be an object, received ${options}`);
  }
  for (const name of ["fetch", "targets"] as const) {
    if (typeof options[name] !== "function") {
      throw new TypeError(
        `Cannot create load scraper: "${name}" must be a function, received ${typeof options[name]}`,
      );
    }
  }
  checkTickerOptions("load scraper", options);
  for (const name of ["timeoutMs", "maxBytes"] as const) {
    const v = options[name];
    if (v === undefined && name === "maxBytes") continue;
    if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) {
      throw new RangeError(
        `Cannot create load scraper: "${name}" must be a finite number > 0, received ${v}`,
      );
    }
  }
}

/** Reads `body` as text into `onText`, failing past `maxBytes`. */
async function readText(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  onText: (text: string) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > maxBytes) throw new ScrapeError(`body larger than ${maxBytes} bytes`, "too_large");
      onText(decoder.decode(value, { stream: true }));
    }
    onText(decoder.decode());
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** Reads one load report of `source` for the instance serving `model`. */
async function readReport(
  source: LoadSourceKind,
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  model: string,
): Promise<EngineReading> {
  if (source === "ollama") {
    let text = "";
    await readText(body, maxBytes, (t) => (text += t));
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ScrapeError("not JSON", "unreadable");
    }
    const reading = readOllamaPs(parsed);
    if (reading === undefined) throw new ScrapeError("no models list found", "unreadable");
    return reading;
  }
  const spec = PROM_ENGINES[source];
  const reader = new PromTextReader(wantedNames(spec));
  await readText(body, maxBytes, (t) => reader.push(t));
  reader.end();
  const reading = readPromEngine(spec, reader.samples, model);
  if (reading === undefined) throw new ScrapeError("no load metrics found", "unreadable");
  const unusable = unusableReading(reading);
  if (unusable !== undefined) throw new ScrapeError(unusable, "unreadable");
  return reading;
}

/**
 * Creates a load-signal scraper.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLoadScraper, InstanceSignal } from "./mod.ts";
 *
 * const signal = new InstanceSignal({ clock: () => 0, staleAfterMs: 3000, model: "qwen" });
 * // A stand-in fetch keeps the example offline; main.ts passes the real one.
 * const fakeFetch = () => Promise.resolve(new Response('vllm:num_requests_waiting{model_name="qwen"} 5\n'));
 * const scraper = createLoadScraper({
 *   fetch: fakeFetch,
 *   clock: () => 0,
 *   intervalMs: 1000,
 *   timeoutMs: 500,
 *   targets: () => [{
 *     id: "chat/qwen@http://127.0.0.1:8000",
 *     source: "vllm",
 *     request: () => ({ url: "http://127.0.0.1:8000/metrics", headers: new Headers() }),
 *     signal,
 *     inFlight: () => 0,
 *   }],
 * });
 * const [outcome] = await scraper.runOnce();
 * assert.equal(outcome.result, "ok");
 * assert.equal(signal.read(0)?.waiting, 5);
 * ```
 */
export function createLoadScraper(options: LoadScraperOptions): LoadScraper {
  check(options);
  const { fetch: doFetch, clock, timeoutMs, targets, onScrape, onError } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const schedule = options.schedule ?? timeoutSchedule;
  const ticker = createTicker({
    clock,
    intervalMs: options.intervalMs,
    schedule,
    onTick: () => void Promise.all(round()),
  });

  const running = new Map<string, Promise<ScrapeOutcome>>();
  let stopCtrl = new AbortController();
  let skipped = 0;

  function report(error: unknown): void {
    try {
      onError?.(error);
    } catch {
      // The error sink itself failed; nowhere left to report to.
    }
  }

  async function scrape(t: ScrapeTarget, stop: AbortSignal): Promise<ScrapeOutcome> {
    const begin = clock();
    const wasFailing = t.signal.failing;
    const done = (
      result: ScrapeOutcome["result"],
      detail: string,
      more?: Pick<ScrapeOutcome, "reading" | "reason" | "transition">,
    ): ScrapeOutcome => ({ id: t.id, result, detail, durationMs: clock() - begin, ...more });
    const ctrl = new AbortController();
    let cause: "timeout" | "stopped" | undefined;
    const onStop = () => {
      cause ??= "stopped";
      ctrl.abort();
    };
    if (stop.aborted) onStop();
    else stop.addEventListener("abort", onStop, { once: true });
    const cancelDeadline = schedule(() => {
      cause ??= "timeout";
      ctrl.abort();
    }, timeoutMs);
    try {
      const req = t.request();
      const res = await doFetch(req.url, {
        method: "GET",
        headers: req.headers,
        redirect: "manual",
        signal: ctrl.signal,
      });
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => {});
        throw new ScrapeError(`HTTP ${res.status}`, "status");
      }
      if (res.body === null) throw new ScrapeError("empty body", "unreadable");
      const reading = await readReport(t.source, res.body, maxBytes, t.signal.model);
      if (cause !== undefined) throw new ScrapeError("cut short", "timeout");
      t.signal.record(reading, t.inFlight());
      return done("ok", "HTTP 200", wasFailing ? { reading, transition: "recovered" } : { reading });
    } catch (error) {
      if (cause === "stopped") return done("aborted", "scraper stopped");
      const detail = cause === "timeout"
        ? `timeout after ${timeoutMs} ms`
        : error instanceof ScrapeError
        ? error.message
        : (error as Error)?.message ?? String(error);
      const reason = cause === "timeout"
        ? "timeout"
        : error instanceof ScrapeError
        ? error.reason
        : "network";
      t.signal.fail(detail);
      return done("error", detail, wasFailing ? { reason } : { reason, transition: "failing" });
    } finally {
      cancelDeadline();
      stop.removeEventListener("abort", onStop);
    }
  }

  function launch(t: ScrapeTarget): Promise<ScrapeOutcome> {
    const p = scrape(t, stopCtrl.signal).then((outcome) => {
      try {
        onScrape?.(outcome);
      } catch (error) {
        report(error);
      }
      return outcome;
    }).finally(() => {
      if (running.get(t.id) === p) running.delete(t.id);
    });
    running.set(t.id, p);
    return p;
  }

  function round(): Promise<ScrapeOutcome>[] {
    let list: ScrapeTarget[];
    try {
      list = [...targets()];
    } catch (error) {
      report(error);
      return [];
    }
    return list.map((t) => {
      if (running.has(t.id)) {
        skipped++;
        return Promise.resolve({
          id: t.id,
          result: "busy",
          detail: "previous scrape still running",
          durationMs: 0,
        });
      }
      return launch(t);
    });
  }

  return {
    start() {
      if (ticker.started) return;
      stopCtrl = new AbortController();
      ticker.start();
    },
    async stop() {
      ticker.stop();
      stopCtrl.abort();
      await Promise.all([...running.values()]);
      stopCtrl = new AbortController();
    },
    runOnce: () => Promise.all(round()),
    get started() {
      return ticker.started;
    },
    get skipped() {
      return skipped;
    },
  };
}
