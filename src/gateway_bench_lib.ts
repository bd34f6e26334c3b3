/**
 * The gateway's own cost per request, without sockets: `gateway.fetch` for a chat request (and a
 * 50-chunk stream) against an in-process upstream that answers at once, with the bench's config
 * (every limiter, breaker, failover, metrics, JSON access log). What remains above Deno's own
 * `Request`/`Response` work is the gateway's logic: compare with the "floor" case, which only
 * reads the body and answers through the same fake upstream.
 *
 * Run: `deno bench --allow-all src/gateway_bench.ts`.
 *
 * @module
 */

import { parseConfig } from "./config/load.ts";
import { createGateway } from "./gateway.ts";
import { gatewayConfig } from "../tests/bench/gateway_config.ts";

const UPSTREAMS = ["http://127.0.0.1:9101", "http://127.0.0.1:9102"];
const ANSWER = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  model: "bench",
  choices: [{ index: 0, message: { role: "assistant", content: "hello" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
});
const ANSWER_BYTES = new TextEncoder().encode(ANSWER);
const EVENT = new TextEncoder().encode(
  'data: {"id":"c","object":"chat.completion.chunk","model":"bench","choices":[{"index":0,"delta":{"content":"tok "}}]}\n\n',
);
const DONE = new TextEncoder().encode("data: [DONE]\n\n");

/** Upstream stand-in: JSON answers with a length, or 50 SSE chunks. */
function fakeFetch(_url: string | URL | Request, init?: RequestInit): Promise<Response> {
  const stream = typeof init?.body !== "string" && init?.body instanceof Uint8Array &&
    new TextDecoder().decode(init.body).includes('"stream":true');
  if (!stream) {
    return Promise.resolve(
      new Response(ANSWER_BYTES, {
        headers: { "content-type": "application/json", "content-length": String(ANSWER_BYTES.byteLength) },
      }),
    );
  }
  let n = 0;
  const body = new ReadableStream({
    type: "bytes",
    pull(c: ReadableByteStreamController) {
      if (n++ < 50) c.enqueue(EVENT.slice());
      else if (n === 52) {
        c.close();
        c.byobRequest?.respond(0);
      } else c.enqueue(DONE.slice());
    },
  });
  return Promise.resolve(new Response(body, { headers: { "content-type": "text/event-stream" } }));
}

const { config } = parseConfig(gatewayConfig(8080, UPSTREAMS), { source: "bench.yaml", env: {} });
export const gateway = createGateway(config, {
  clock: Date.now,
  random: Math.random,
  fetch: fakeFetch as typeof fetch,
  write: () => {},
});
export const info = {
  remoteAddr: { transport: "tcp" as const, hostname: "127.0.0.1", port: 40000 },
  completed: Promise.resolve(),
};
export const CHAT = JSON.stringify({
  model: "bench",
  messages: [{ role: "user", content: "Say hello" }],
  max_tokens: 16,
});
export const STREAM = JSON.stringify({ model: "bench", stream: true, messages: [{ role: "user", content: "hi" }] });
export const request = (body: string) =>
  new Request("http://127.0.0.1:8080/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": String(body.length) },
    body,
  });

