/**
 * A deliberately fast fake OpenAI upstream for the benchmark, run as its own process so that it
 * never shares an event loop with the gateway or the load generator. It listens on two loopback
 * ports (so the gateway's balancer has two instances to choose from), and prints one JSON line
 * `{"ports":[a,b]}` once both are listening.
 *
 * Answers are prebuilt strings; the only per-request work is reading the body:
 * - `GET /v1/models`: the health probe.
 * - `POST /v1/chat/completions`: a small completion, or, when the body holds `"stream":true`, an
 *   SSE stream of `--chunks` chunks `--gap-ms` apart (first one at once) and `data: [DONE]`.
 *   A body that also holds `BENCH_HOLD` gets a long stream (a chunk every `--hold-gap-ms`, at most
 *   `--hold-max-s`) for the open-streams scenario.
 *   A body with `BENCH_RELAY_<n>` gets `n` chunks `--relay-gap-ms` (50) apart, each stamped with
 *   its send time (the stream-relay capacity scenario). A body with `BENCH_BREAK` gets three
 *   chunks and then a broken connection (no final chunk): the check that the gateway ends such a
 *   stream with an SSE error event.
 * - `POST /v1/embeddings`: a 384-dimension embedding.
 *
 * Usage: `deno run --allow-net tests/bench/upstream.ts [--chunks 50] [--gap-ms 2]`
 *
 * @module
 */

import { play, type StreamPlan } from "./sse_player.ts";

interface UpstreamOptions {
  chunks: number;
  gapMs: number;
  holdGapMs: number;
  holdMaxS: number;
  relayGapMs: number;
}

function parseOptions(args: readonly string[]): UpstreamOptions {
  const o: UpstreamOptions = { chunks: 50, gapMs: 2, holdGapMs: 250, holdMaxS: 120, relayGapMs: 50 };
  for (let i = 0; i < args.length; i += 2) {
    const value = Number(args[i + 1]);
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`Bad value for ${args[i]}: ${args[i + 1]}`);
    }
    if (args[i] === "--chunks") o.chunks = Math.min(10_000, Math.max(1, Math.floor(value)));
    else if (args[i] === "--gap-ms") o.gapMs = Math.min(1_000, value);
    else if (args[i] === "--hold-gap-ms") o.holdGapMs = Math.min(10_000, Math.max(1, value));
    else if (args[i] === "--hold-max-s") o.holdMaxS = Math.min(3_600, value);
    else if (args[i] === "--relay-gap-ms") o.relayGapMs = Math.min(10_000, Math.max(1, value));
    else throw new TypeError(`Unknown argument "${args[i]}"`);
  }
  return o;
}

const RELAY = /BENCH_RELAY_(\d+)/;
const JSON_HEADERS = { "content-type": "application/json" };
const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" };
/** A length the cut stream never reaches: the connection drops mid-body. */
const CUT_HEADERS = { ...SSE_HEADERS, "content-length": "1000000" };

const MODELS = JSON.stringify({
  object: "list",
  data: [{ id: "bench", object: "model", created: 0, owned_by: "bench" }],
});

const CHAT = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "bench",
  choices: [{
    index: 0,
    message: { role: "assistant", content: "Hello! This is a short answer from the benchmark upstream." },
    finish_reason: "stop",
  }],
  usage: { prompt_tokens: 12, completion_tokens: 14, total_tokens: 26 },
});

// A fixed pseudo-random vector: realistic size (~4 KB of JSON) without per-request work.
const EMBEDDING = JSON.stringify({
  object: "list",
  data: [{
    object: "embedding",
    index: 0,
    embedding: Array.from({ length: 384 }, (_, i) => Number((Math.sin(i * 12.9898) * 0.5).toFixed(6))),
  }],
  model: "bench-embed",
  usage: { prompt_tokens: 9, total_tokens: 9 },
});

const ENCODER = new TextEncoder();
const CHUNK_TEXT = `data: ${
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model: "bench",
    choices: [{ index: 0, delta: { content: "tok " }, finish_reason: null }],
  })
}\n\n`;
const LAST_TEXT = `data: ${
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model: "bench",
    choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
    usage: { prompt_tokens: 12, completion_tokens: 50, total_tokens: 62 },
  })
}\n\ndata: [DONE]\n\n`;
const CHUNK = ENCODER.encode(CHUNK_TEXT);
const LAST = ENCODER.encode(LAST_TEXT);
const chunk = () => CHUNK;
const last = () => LAST;

/**
 * A relay chunk's id carries the upstream's send time (`chatcmpl-<µs of performance.now()>`): the
 * load generator subtracts the upstream's own timing jitter from the gaps it sees.
 */
function stamped(text: string): () => Uint8Array {
  const [head, tail] = text.split("chatcmpl-bench");
  return () => ENCODER.encode(`${head}chatcmpl-${Math.round(performance.now() * 1000)}${tail}`);
}
const RELAY_CHUNK = stamped(CHUNK_TEXT);
const RELAY_LAST = stamped(LAST_TEXT);

/** What a streamed request gets: its marker (`BENCH_HOLD`, `BENCH_RELAY_<n>`, `BENCH_BREAK`) decides. */
function streamPlan(text: string, o: UpstreamOptions): StreamPlan {
  const relay = RELAY.exec(text);
  if (relay) {
    const count = Math.min(10_000, Math.max(1, Number(relay[1])));
    return { count, gapMs: o.relayGapMs, chunk: RELAY_CHUNK, last: RELAY_LAST };
  }
  if (text.includes("BENCH_HOLD")) {
    const count = Math.max(1, Math.floor((o.holdMaxS * 1000) / o.holdGapMs));
    return { count, gapMs: o.holdGapMs, chunk, last };
  }
  if (text.includes("BENCH_BREAK")) return { count: 4, gapMs: 5, chunk, last, cut: true };
  return { count: o.chunks, gapMs: o.gapMs, chunk, last };
}

function handler(o: UpstreamOptions): (req: Request) => Promise<Response> | Response {
  return async (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "GET") {
      return path === "/v1/models" ? new Response(MODELS, { headers: JSON_HEADERS }) : notFound();
    }
    const text = await req.text();
    if (path === "/v1/chat/completions") {
      if (!text.includes('"stream":true')) return new Response(CHAT, { headers: JSON_HEADERS });
      const plan = streamPlan(text, o);
      return new Response(play(plan), { headers: plan.cut ? CUT_HEADERS : SSE_HEADERS });
    }
    if (path === "/v1/embeddings") return new Response(EMBEDDING, { headers: JSON_HEADERS });
    return notFound();
  };
}

function notFound(): Response {
  return new Response('{"error":{"message":"not found","type":"invalid_request_error"}}', {
    status: 404,
    headers: JSON_HEADERS,
  });
}

if (import.meta.main) {
  const o = parseOptions(Deno.args);
  const handle = handler(o);
  const ports = await Promise.all([0, 1].map(() =>
    new Promise<number>((resolve) => {
      Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: (a) => resolve(a.port) }, handle);
    })
  ));
  console.log(JSON.stringify({ ports }));
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
}
