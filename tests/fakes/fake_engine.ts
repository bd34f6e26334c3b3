/**
 * A fake vLLM-style inference server on 127.0.0.1 driven by {@linkcode EngineSim}: OpenAI chat
 * completions (streaming too), `GET /metrics` with vLLM's real metric names and labels (see
 * `src/signals/testdata/vllm/metrics.txt` for their source), `GET /health`, `GET /v1/models`.
 * `metricsFault` makes `/metrics` hang or answer garbage, for scraper tests.
 *
 * @module
 */

import { EngineSim, type EngineSimOptions } from "./engine_sim.ts";

/** Options of {@linkcode startFakeEngine}. */
export interface FakeEngineOptions extends Omit<EngineSimOptions, "sleep"> {
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
  metricsFault: MetricsFault;
  close(): Promise<void>;
}

const enc = new TextEncoder();

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

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

function promptOf(body: { messages?: { role?: string; content?: unknown }[]; prompt?: unknown }): string {
  if (Array.isArray(body.messages)) {
    return body.messages.map((m) => `${m.role}\n${typeof m.content === "string" ? m.content : ""}\n`).join(
      "",
    );
  }
  return typeof body.prompt === "string" ? body.prompt : "";
}

/** Starts a fake engine on 127.0.0.1 (port 0 = any free port). */
export function startFakeEngine(options: FakeEngineOptions): FakeEngine {
  const sim = new EngineSim({ ...options, sleep });
  const model = options.model;
  let requests = 0;
  let scrapes = 0;
  let counter = 0;
  const hung = new Set<() => void>();

  async function chat(req: Request): Promise<Response> {
    requests++;
    const body = await req.json().catch(() => null);
    if (body === null || typeof body !== "object") {
      return Response.json({ error: { message: "invalid JSON", type: "invalid_request_error" } }, {
        status: 400,
      });
    }
    const id = `chatcmpl-fake-${++counter}`;
    const simReq = { prompt: promptOf(body), maxTokens: body.max_tokens, signal: req.signal };
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
      id,
      object: "chat.completion.chunk",
      created: 0,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    if (body.stream === true) {
      let produced = 0;
      const stream = new ReadableStream<Uint8Array>({
        async start(ctrl) {
          try {
            produced = await sim.generate(simReq, (i) => {
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
            ctrl.enqueue(enc.encode(`data: ${JSON.stringify(chunk({}, "stop"))}\n\ndata: [DONE]\n\n`));
            ctrl.close();
          } catch {
            // The client went away: the generation was aborted.
          }
          void produced;
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
    metricsFault: "none",
    async close() {
      for (const release of hung) release();
      await server.shutdown();
    },
  };
  return engine;
}
