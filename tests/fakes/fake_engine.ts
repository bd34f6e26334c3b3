/**
 * A fake vLLM-style inference server on 127.0.0.1 driven by {@linkcode EngineSim}: OpenAI chat
 * completions (streaming too), `GET /metrics` with vLLM's real metric names and labels (see
 * `src/signals/testdata/vllm/metrics.txt` for their source), `GET /health`, `GET /v1/models`.
 * `metricsFault` makes `/metrics` hang or answer garbage, for scraper tests.
 *
 * @module
 */

import { EngineSim, type EngineSimOptions, promptOf } from "./engine_sim.ts";

/** Options of {@linkcode startFakeEngine}. */
export interface FakeEngineOptions extends Omit<EngineSimOptions, "sleep" | "schedule"> {
  /** The served model name (vLLM's `model_name` label). */
  readonly model: string;
  readonly port?: number;
}

/** What `/metrics` does. */
export type MetricsFault = "none" | "hang" | "garbage" | "huge";

/** A running fake engine. */
export interface FakeEngine {
  readonly url: string;
  readonly sim: EngineSim;
  /** Chat requests received. */
  readonly requests: number;
  /** `/metrics` requests received. */
  readonly scrapes: number;
  /** Chat requests being served now (a stream until it ends or its client leaves). */
  readonly active: number;
  /** The most chat requests ever served at once. */
  readonly peakActive: number;
  /** The `user` field of every chat request, in arrival order (tests tag conversations with it). */
  readonly users: readonly string[];
  metricsFault: MetricsFault;
  close(): Promise<void>;
}

const enc = new TextEncoder();

/** Real timers for the engine model. */
const schedule = (fn: () => void, ms: number) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

/** vLLM's exposition of the engine's state. */
export function vllmMetrics(sim: EngineSim, model: string): string {
  const l = `{engine="0",model_name="${model.replace(/["\\]/g, "\\$&")}"}`;
  return [
    "# HELP vllm:num_requests_running Number of requests in model execution batches.",
    "# TYPE vllm:num_requests_running gauge",
    `vllm:num_requests_running${l} ${sim.running.toFixed(1)}`,
    "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
    "# TYPE vllm:num_requests_waiting gauge",
    `vllm:num_requests_waiting${l} ${sim.waiting.toFixed(1)}`,
    "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.",
    "# TYPE vllm:kv_cache_usage_perc gauge",
    `vllm:kv_cache_usage_perc${l} ${sim.kvUsage}`,
    "# HELP vllm:prefix_cache_queries_total Prefix cache queries, in terms of number of queried tokens.",
    "# TYPE vllm:prefix_cache_queries_total counter",
    `vllm:prefix_cache_queries_total${l} ${sim.prefixQueriedTokens.toFixed(1)}`,
    "# HELP vllm:prefix_cache_hits_total Prefix cache hits, in terms of number of cached tokens.",
    "# TYPE vllm:prefix_cache_hits_total counter",
    `vllm:prefix_cache_hits_total${l} ${sim.prefixHitTokens.toFixed(1)}`,
    "",
  ].join("\n");
}

/** Starts a fake engine on 127.0.0.1 (port 0 = any free port). */
export function startFakeEngine(options: FakeEngineOptions): FakeEngine {
  const sim = new EngineSim({ ...options, schedule });
  const model = options.model;
  let requests = 0;
  let scrapes = 0;
  let active = 0;
  let peakActive = 0;
  const users: string[] = [];
  let counter = 0;
  const hung = new Set<() => void>();

  /**
   * Counts the request as active until its answer is complete (a stream: until it ends) or the
   * engine learns that its client left (as vLLM aborts a request on disconnect).
   */
  async function chat(req: Request): Promise<Response> {
    requests++;
    peakActive = Math.max(peakActive, ++active);
    let ended = false;
    const end = () => void (ended || (ended = true, active--));
    req.signal.addEventListener("abort", end, { once: true });
    let streaming = false;
    try {
      const res = await answer(req, end);
      streaming = res.headers.get("content-type") === "text/event-stream";
      return res;
    } finally {
      if (!streaming) end();
    }
  }

  async function answer(req: Request, end: () => void): Promise<Response> {
    const body = await req.json().catch(() => null);
    if (typeof body?.user === "string") users.push(body.user);
    if (body === null || typeof body !== "object") {
      return Response.json({ error: { message: "invalid JSON", type: "invalid_request_error" } }, {
        status: 400,
      });
    }
    const id = `chatcmpl-fake-${++counter}`;
    // The client leaving (`req.signal`) or the relay cancelling the body (`gone`) ends the job.
    const gone = new AbortController();
    const simReq = {
      prompt: promptOf(body),
      maxTokens: body.max_tokens,
      signal: AbortSignal.any([req.signal, gone.signal]),
    };
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
      id,
      object: "chat.completion.chunk",
      created: 0,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    if (body.stream === true) {
      let produced = 0;
      // vLLM ends with a chunk carrying `usage` (and no choices) when asked for it.
      const usage = body.stream_options?.include_usage === true;
      const stream = new ReadableStream<Uint8Array>({
        async start(ctrl) {
          try {
            produced = await sim.generate(simReq, (i) => {
              if (gone.signal.aborted) return;
              ctrl.enqueue(
                enc.encode(
                  `data: ${
                    JSON.stringify(
                      chunk(i === 0 ? { role: "assistant", content: "t0" } : { content: ` t${i}` }, null),
                    )
                  }\n\n`,
                ),
              );
            }, Date.now);
            ctrl.enqueue(enc.encode(`data: ${JSON.stringify(chunk({}, "stop"))}\n\n`));
            if (usage) {
              const counts = {
                prompt_tokens: Math.ceil(simReq.prompt.length / 4),
                completion_tokens: produced,
              };
              const last = {
                id,
                object: "chat.completion.chunk",
                created: 0,
                model,
                choices: [],
                usage: counts,
              };
              ctrl.enqueue(enc.encode(`data: ${JSON.stringify(last)}\n\n`));
            }
            ctrl.enqueue(enc.encode("data: [DONE]\n\n"));
            ctrl.close();
          } catch {
            // The client went away: the generation was aborted.
          } finally {
            end();
          }
        },
        cancel() {
          gone.abort();
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    }
    const parts: string[] = [];
    const n = await sim.generate(simReq, (i) => void parts.push(`t${i}`), Date.now);
    return Response.json({
      id,
      object: "chat.completion",
      created: 0,
      model,
      choices: [{
        index: 0,
        message: { role: "assistant", content: parts.join(" ") },
        finish_reason: "stop",
      }],
      usage: { prompt_tokens: Math.ceil(simReq.prompt.length / 4), completion_tokens: n, total_tokens: 0 },
    });
  }

  function metrics(): Response | Promise<Response> {
    scrapes++;
    switch (engine.metricsFault) {
      case "hang":
        return new Promise((resolve) => hung.add(() => resolve(new Response("late"))));
      case "garbage":
        return new Response("<html><body>502 Bad Gateway</body></html>\n\u0000\u0001 nonsense {{{\n");
      case "huge":
        return new Response(
          new ReadableStream({
            pull(ctrl) {
              ctrl.enqueue(enc.encode("# padding line that never ends the body\n".repeat(1000)));
            },
          }),
        );
    }
    return new Response(vllmMetrics(sim, model), {
      headers: { "content-type": "text/plain; version=0.0.4" },
    });
  }

  const server = Deno.serve({ hostname: "127.0.0.1", port: options.port ?? 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "POST" && path === "/v1/chat/completions") return chat(req);
    if (path === "/metrics") return metrics();
    if (path === "/health") return new Response(null, { status: 200 });
    if (path === "/v1/models") {
      return Response.json({ object: "list", data: [{ id: model, object: "model" }] });
    }
    return new Response("not found", { status: 404 });
  });

  const engine: FakeEngine = {
    url: `http://127.0.0.1:${server.addr.port}`,
    sim,
    get requests() {
      return requests;
    },
    get scrapes() {
      return scrapes;
    },
    get active() {
      return active;
    },
    get peakActive() {
      return peakActive;
    },
    users,
    metricsFault: "none",
    async close() {
      for (const release of hung) release();
      await server.shutdown();
    },
  };
  return engine;
}

/**
 * Sends `n` long generations straight to an engine (not through a gateway), as other clients of a
 * shared engine would; abort `signal` to end them. Resolves when they have all ended.
 */
export function generateDirectly(
  url: string,
  n: number,
  signal: AbortSignal,
  maxTokens = 500,
): Promise<void> {
  const one = () =>
    fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({
        model: "qwen",
        messages: [{ role: "user", content: "hello" }],
        max_tokens: maxTokens,
      }),
      signal,
    }).then((r) => r.text()).catch(() => {});
  return Promise.all(Array.from({ length: n }, one)).then(() => {});
}
