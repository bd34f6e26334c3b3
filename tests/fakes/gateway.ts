/**
 * Starts a real gateway on 127.0.0.1 port 0 for end-to-end tests, from YAML text. Refuses any
 * config whose instances point outside loopback: tests never send traffic elsewhere.
 *
 * @module
 */

import { parseConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { createGateway, type Gateway, type GatewayDeps } from "../../src/gateway.ts";
import { serveGateway } from "../../src/http/serve_gateway.ts";
import { SERVICE_KINDS } from "../../src/types.ts";
import { type FakeUpstream, startFakeUpstream } from "./openai_upstream.ts";
import { seededRandom } from "./random.ts";

/** A gateway listening on loopback. */
export interface TestGateway {
  readonly url: string;
  readonly gateway: Gateway;
  /** Every log line written so far. */
  readonly logs: string[];
  close(): Promise<void>;
}

/** Options of {@linkcode startGateway}. */
export interface StartOptions {
  readonly env?: Record<string, string>;
  readonly clock?: () => number;
  readonly random?: () => number;
  /** Run active health probes (off by default so tests control health). */
  readonly probes?: boolean;
  readonly extend?: GatewayDeps["extend"];
  readonly onAccess?: GatewayDeps["onAccess"];
  readonly onAttemptFailed?: GatewayDeps["onAttemptFailed"];
}

const LOOPBACK = /^https?:\/\/([^@/]*@)?(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/;

/** Throws unless every instance of `config` is on loopback. */
export function assertLoopbackOnly(config: Config): void {
  for (const kind of SERVICE_KINDS) {
    for (const inst of config.services[kind].instances) {
      if (!LOOPBACK.test(inst.baseUrl)) {
        throw new Error(`test config points outside loopback: ${inst.baseUrl}`);
      }
    }
  }
}

/**
 * The smallest config: one chat instance `m` at `url`, health checks off; `top` goes before the
 * `model` block (e.g. `log:` or `server:` lines).
 */
export function oneInstanceYaml(url: string, top = ""): string {
  return `${top}
model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - { name: m, base-url: "${url}" }
`;
}

/** Parses `yaml` and serves a gateway for it on 127.0.0.1:0. */
export function startGateway(yaml: string, options: StartOptions = {}): TestGateway {
  const { config } = parseConfig(yaml, { source: "test.yaml", env: options.env ?? {} });
  assertLoopbackOnly(config);
  const logs: string[] = [];
  const gateway = createGateway(config, {
    clock: options.clock ?? Date.now,
    random: options.random ?? seededRandom(42),
    fetch: globalThis.fetch,
    // Real loopback sockets, as main.ts does, for `health-check.type: tcp`.
    connect: async (a, signal) =>
      (await Deno.connect({ hostname: a.hostname, port: a.port, signal })).close(),
    write: (line) => logs.push(line),
    extend: options.extend,
    onAccess: options.onAccess,
    onAttemptFailed: options.onAttemptFailed,
  });
  if (options.probes) gateway.startProbes();
  // Served as main.ts serves it: on the renewable listener configured from `server.*`.
  const server = serveGateway(gateway, config.server, { hostname: "127.0.0.1", port: 0 });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    gateway,
    logs,
    async close() {
      await gateway.close();
      await server.shutdown();
    },
  };
}

/**
 * A gateway for `yaml(upstreamUrl)` in front of a recording fake upstream named `U`; both are
 * closed after `fn`, whatever it does.
 */
export async function withGateway(
  yaml: (upstream: string) => string,
  fn: (gw: TestGateway, up: FakeUpstream) => Promise<void>,
  options: StartOptions = {},
): Promise<void> {
  const up = startFakeUpstream({ name: "U" });
  try {
    const gw = startGateway(yaml(up.url), options);
    try {
      await fn(gw, up);
    } finally {
      await gw.close();
    }
  } finally {
    await up.close();
  }
}

/** What {@linkcode postChat} sends. */
export interface ChatRequest {
  /** @default {"m"} */
  readonly model?: string;
  /** Headers beside `content-type: application/json`. */
  readonly headers?: Record<string, string>;
  /** More body fields (`stream`, `max_tokens`…), merged over the model and the one `hi` message. */
  readonly body?: Record<string, unknown>;
  readonly signal?: AbortSignal;
}

/** POSTs a one-message chat request to the gateway at `url`; the caller reads or cancels the body. */
export function postChat(url: string, request: ChatRequest = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...request.headers },
    body: JSON.stringify({
      model: request.model ?? "m",
      messages: [{ role: "user", content: "hi" }],
      ...request.body,
    }),
    signal: request.signal,
  });
}

/** Polls `check` until it returns true (bounded), for effects that land asynchronously. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * One short chat request (model `qwen`, 2 tokens, `body` merged in) through a gateway at `url`;
 * resolves with its status once the answer has been read.
 */
export async function askChat(url: string, body: Record<string, unknown> = {}): Promise<number> {
  const res = await postChat(url, { model: "qwen", body: { max_tokens: 2, ...body } });
  await res.text();
  return res.status;
}
