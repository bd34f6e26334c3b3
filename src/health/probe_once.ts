/**
 * One health probe, HTTP or TCP, bounded by a deadline and cut short by the prober's stop signal.
 *
 * - HTTP: the verdict follows `expect` ({@linkcode isExpectedStatus}; default: any answer below
 *   500). The body is never read, only cancelled, so a probe cannot hang on a slow body nor leave
 *   a connection half-read; redirects are not followed (a probe judges the host it was sent to).
 * - TCP: a connection that opens is "up"; refused, unreachable or too slow is "down".
 * - A probe cut short by `stop` is `aborted`: the gateway, not the instance, gave up.
 *
 * @module
 */

import type { ProbeRequest, Schedule, StatusRange, TcpAddress } from "../types.ts";
import { isExpectedStatus } from "./expect_status.ts";

export type { Schedule };

/**
 * Opens a TCP connection to `address` and closes it again; resolves once it was open, rejects when
 * it cannot be opened. Must give up when `signal` aborts. `main.ts` builds it on `Deno.connect`.
 */
export type TcpConnect = (address: TcpAddress, signal: AbortSignal) => Promise<void>;

/** What one probe found. */
export interface ProbeVerdict {
  /** `up` / `down`: a verdict on the instance. `aborted`: stopped by the gateway, no verdict. */
  readonly result: "up" | "down" | "aborted";
  /** The HTTP status, when a response arrived. */
  readonly status?: number;
  /** Short human text: `HTTP 503`, `TCP connect ok`, `timeout after 100 ms`, the network error. */
  readonly detail: string;
}

/** What {@linkcode probeOnce} needs besides the probe itself. */
export interface ProbeContext {
  readonly fetch: typeof fetch;
  readonly connect?: TcpConnect;
  readonly schedule: Schedule;
  readonly timeoutMs: number;
  /** Aborts when the prober stops. */
  readonly stopSignal: AbortSignal;
  /** Statuses that count as up (HTTP only). */
  readonly expect?: readonly StatusRange[];
}

/** Whether a probe request is a TCP connect rather than an HTTP request. */
export function isTcpProbe(req: ProbeRequest | TcpAddress): req is TcpAddress {
  return !("url" in req);
}

/**
 * Runs one probe. Never rejects.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { probeOnce } from "./probe_once.ts";
 *
 * // A stand-in fetch keeps the example offline; main.ts passes the real one.
 * const ctx = {
 *   fetch: () => Promise.resolve(new Response("no such route", { status: 404 })),
 *   schedule: (f: () => void, ms: number) => { const t = setTimeout(f, ms); return () => clearTimeout(t); },
 *   timeoutMs: 1_000,
 *   stopSignal: new AbortController().signal,
 * };
 * const req = { url: "http://127.0.0.1:8000/health", method: "GET" as const, headers: new Headers() };
 * assert.equal((await probeOnce(req, ctx)).result, "up"); // it answered: alive
 * assert.equal((await probeOnce(req, { ...ctx, expect: [[200, 299]] })).result, "down");
 * ```
 */
export async function probeOnce(req: ProbeRequest | TcpAddress, ctx: ProbeContext): Promise<ProbeVerdict> {
  const ctrl = new AbortController();
  let cause: "timeout" | "stopped" | undefined;
  const onStop = () => {
    cause ??= "stopped";
    ctrl.abort(new DOMException("Prober stopped", "AbortError"));
  };
  if (ctx.stopSignal.aborted) onStop();
  else ctx.stopSignal.addEventListener("abort", onStop, { once: true });
  const cancelDeadline = ctx.schedule(() => {
    cause ??= "timeout";
    ctrl.abort(new DOMException(`Probe timed out after ${ctx.timeoutMs} ms`, "TimeoutError"));
  }, ctx.timeoutMs);
  const cut = (status?: number): ProbeVerdict | undefined => {
    const s = status === undefined ? {} : { status };
    if (cause === "stopped") return { result: "aborted", detail: "prober stopped", ...s };
    if (cause === "timeout") return { result: "down", detail: `timeout after ${ctx.timeoutMs} ms`, ...s };
    return undefined;
  };
  try {
    if (isTcpProbe(req)) {
      if (!ctx.connect) return { result: "down", detail: "no TCP connector configured" };
      await ctx.connect(req, ctrl.signal);
      return cut() ?? { result: "up", detail: "TCP connect ok" };
    }
    const res = await ctx.fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: "manual",
      signal: ctrl.signal,
    });
    // Only the status matters. Cancelling frees the connection without waiting for a body that
    // may be large or never end; the deadline still bounds the cancel itself.
    await res.body?.cancel().catch(() => {});
    // In runtimes that hide manual redirects, the response is opaque with status 0: still an answer.
    const up = res.type === "opaqueredirect" || isExpectedStatus(res.status, ctx.expect);
    return cut(res.status) ??
      { result: up ? "up" : "down", detail: `HTTP ${res.status}`, status: res.status };
  } catch (error) {
    return cut() ?? { result: "down", detail: (error as Error)?.message ?? String(error) };
  } finally {
    cancelDeadline();
    ctx.stopSignal.removeEventListener("abort", onStop);
  }
}
