/**
 * Test support for the in-process suite of the request path: a harness that builds a gateway
 * from a config written as an object, in front of scripted upstreams on manual time
 * (`_fake_upstreams.ts`), and calls `gateway.fetch(new Request(…))` — no sockets, no real
 * timers, so every case is deterministic — plus the table runner every case file uses.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseConfig } from "../config/load.ts";
import { createGateway, type Gateway } from "../gateway.ts";
import { ManualTime, ScriptedUpstreams, settle, type Step } from "./_fake_upstreams.ts";
import { DeadlineSweep } from "./deadlines.ts";
import type { ScopeDecider } from "./request.ts";
import type { Upstream } from "./runtime_types.ts";

export { ManualTime, ScriptedUpstreams, settle, type Step } from "./_fake_upstreams.ts";
export type { Call, Reply } from "./_fake_upstreams.ts";

/** A gateway on manual time in front of scripted upstreams. */
export interface Harness {
  readonly gateway: Gateway;
  readonly time: ManualTime;
  readonly upstreams: ScriptedUpstreams;
  readonly deadlines: DeadlineSweep;
  /** Every log line (access lines included), as written. */
  readonly logs: string[];
  /** `gateway.fetch` of a POST with a JSON body (default path: chat completions). */
  post(body: unknown, options?: PostOptions): Promise<Response>;
  /** The runtime's instance by label. */
  upstream(label: string): Upstream;
  /** Applies `config` (same shape as {@linkcode harness}'s) as a reload would. */
  reload(config: unknown): void;
  /**
   * Asserts that nothing is held any more: in-flight counts, half-open permits, attempts waiting
   * for a first byte, deadlines (outlier checks included), upstream bodies.
   */
  assertIdle(): void;
}

/** Options of {@linkcode Harness.post}. */
export interface PostOptions {
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/**
 * Builds a gateway from `config` (the YAML file's shape as an object, JAiRouter's kebab-case
 * keys; validated by the real loader) whose upstreams follow `script`.
 */
export function harness(
  config: unknown,
  script: Readonly<Record<string, readonly Step[]>>,
  limits?: ScopeDecider,
): Harness {
  const time = new ManualTime();
  const upstreams = new ScriptedUpstreams(time, script);
  const deadlines = new DeadlineSweep(time);
  // JSON is YAML: the object goes through the same loader as a config file.
  const parse = (config: unknown) =>
    parseConfig(JSON.stringify(config), { source: "test.json", env: {} }).config;
  const cfg = parse(config);
  const logs: string[] = [];
  const gateway = createGateway(cfg, {
    clock: time.now,
    random: () => 0.5,
    fetch: upstreams.fetch as typeof fetch,
    write: (line) => logs.push(line),
    deadlines,
    limits,
  });
  const byLabel = (label: string) => {
    const url = ScriptedUpstreams.url(label);
    const u = gateway.runtime().upstreams.find((u) => u.target.baseUrl === url);
    assert.ok(u, `no instance ${label}`);
    return u;
  };
  return {
    gateway,
    time,
    upstreams,
    deadlines,
    logs,
    post: async (body, o = {}) =>
      await gateway.fetch(
        new Request(`http://127.0.0.1:8080${o.path ?? "/v1/chat/completions"}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...o.headers },
          body: JSON.stringify(body),
          signal: o.signal,
        }),
      ),
    upstream: byLabel,
    reload: (next) => gateway.reload(parse(next)),
    assertIdle() {
      for (const u of gateway.runtime().upstreams) {
        assert.equal(u.stats.inFlight, 0, `in-flight of ${u.id}`);
        // With nothing in flight a half-open breaker holds no trial: its permits are all free.
        if (u.breaker.state === "half_open" && u.breaker.parkedUntil <= time.now()) {
          assert.ok(u.breaker.canPass(), `half-open permits of ${u.id}`);
        }
      }
      assert.equal(gateway.state.waitCount.waiting, 0, "attempts still waiting for a first byte");
      assert.equal(deadlines.size, 0, "deadlines still watched");
      assert.equal(upstreams.openBodies, 0, "upstream bodies still open");
    },
  };
}

/**
 * A config with one service of instances `a`, `b`, … (model `m`), round-robin, no probes, plus
 * `extra` in the service block and `instanceExtra` in every instance.
 */
export function serviceConfig(
  labels: readonly string[],
  extra: Record<string, unknown> = {},
  service = "chat",
  instanceExtra: Record<string, unknown> = {},
): unknown {
  return {
    model: {
      services: {
        [service]: {
          "load-balance": { type: "round-robin" },
          "health-check": { enabled: false },
          ...extra,
          instances: labels.map((l) => ({
            name: "m",
            "base-url": ScriptedUpstreams.url(l),
            ...instanceExtra,
          })),
        },
      },
    },
  };
}

/** One row of the in-process suite: config → script → request → what must hold after. */
export interface Case {
  readonly name: string;
  /** The config file as an object (see {@linkcode serviceConfig}). */
  readonly config: unknown;
  readonly script: Readonly<Record<string, readonly Step[]>>;
  /** The request body (default: a non-streamed chat request for model `m`) and options. */
  readonly request?: unknown;
  readonly post?: PostOptions;
  /** Runs before the request under test (see {@linkcode send}): earlier requests, time moving. */
  readonly setup?: (h: Harness) => Promise<void>;
  /** The client has left before the gateway starts on the request (its signal is aborted). */
  readonly clientGone?: boolean;
  /** Runs while the request is pending: move time, abort the client. */
  readonly drive?: (h: Harness, client: AbortController) => Promise<void> | void;
  /** Reads the answer (default: its text). */
  readonly read?: (res: Response, h: Harness, client: AbortController) => Promise<string>;
  readonly status: number;
  /** Checks the answer's body (parsed when it is JSON, else its text). */
  readonly answer?: (body: unknown) => void;
  readonly headers?: Readonly<Record<string, string>>;
  /** Instances called, in order, by every request of the case. */
  readonly tried: readonly string[];
  /** Further checks (breakers, limiters, logs) once the answer is read. */
  readonly after?: (h: Harness) => void;
}

/** A non-streamed chat request for model `m`. */
export const CHAT: Readonly<Record<string, unknown>> = Object.freeze({
  model: "m",
  messages: [{ role: "user", content: "hi" }],
});

/** A setup that sends `n` requests and reads their answers, then lets `thenMs` pass. */
export function send(
  n: number,
  thenMs = 0,
  request: unknown = CHAT,
  post?: PostOptions,
): (h: Harness) => Promise<void> {
  return async (h) => {
    for (let i = 0; i < n; i++) await (await h.post(request, post)).text();
    if (thenMs > 0) await h.time.advance(thenMs);
  };
}

/** Registers one `Deno.test` per case; each ends by asserting that every counter is back to zero. */
export function runCases(prefix: string, cases: readonly Case[]): void {
  for (const c of cases) {
    Deno.test(`${prefix}: ${c.name}`, async () => {
      const h = harness(c.config, c.script);
      await c.setup?.(h);
      const client = new AbortController();
      if (c.clientGone) client.abort();
      const pending = h.post(c.request ?? CHAT, { ...c.post, signal: client.signal });
      await settle();
      await c.drive?.(h, client);
      const res = await pending;
      const text = c.read ? await c.read(res, h, client) : await res.text();
      await settle();
      assert.equal(res.status, c.status, text);
      for (const [k, v] of Object.entries(c.headers ?? {})) assert.equal(res.headers.get(k), v, k);
      c.answer?.(parsed(text));
      assert.deepEqual(h.upstreams.tried, c.tried, "instances tried");
      c.after?.(h);
      h.assertIdle();
    });
  }
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
