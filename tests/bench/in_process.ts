/**
 * The in-process setup shared by `src/gateway_bench.ts` and `docs/perf/alloc_profile.ts`: the
 * bench's gateway config served by `gateway.fetch` against an upstream stand-in that answers at
 * once (a JSON answer with a length, or 50 SSE chunks), no sockets.
 *
 * @module
 */

import { parseConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway.ts";

export const UPSTREAMS = ["http://127.0.0.1:9101", "http://127.0.0.1:9102"];
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
const LAST = new TextEncoder().encode(
  'data: {"id":"c","object":"chat.completion.chunk","model":"bench","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":50,"total_tokens":55}}\n\n',
);
const DONE = new TextEncoder().encode("data: [DONE]\n\n");

/** Upstream stand-in: JSON answers with a length, or 50 SSE chunks. */
export function fakeFetch(_url: string | URL | Request, init?: RequestInit): Promise<Response> {
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
      else if (n === 51) c.enqueue(LAST.slice());
      else if (n === 53) {
        c.close();
        c.byobRequest?.respond(0);
      } else c.enqueue(DONE.slice());
    },
  });
  return Promise.resolve(new Response(body, { headers: { "content-type": "text/event-stream" } }));
}

/** A gateway for `yaml` (the bench's config or a variant) on the stand-in upstream. */
export function gatewayFor(yaml: string) {
  const { config } = parseConfig(yaml, { source: "bench.yaml", env: {} });
  return createGateway(config, {
    clock: Date.now,
    random: Math.random,
    fetch: fakeFetch as typeof fetch,
    write: () => {},
  });
}

/** What `Deno.serve` passes with each request (a loopback client). */
export const INFO = {
  remoteAddr: { transport: "tcp" as const, hostname: "127.0.0.1", port: 40000 },
  completed: Promise.resolve(),
};

/** A short chat request. */
export const CHAT = JSON.stringify({
  model: "bench",
  messages: [{ role: "user", content: "Say hello" }],
  max_tokens: 16,
});

/** A POST of JSON `body` to `path`, as a client sends it. */
export const benchRequest = (body: string, path = "/v1/chat/completions"): Request =>
  new Request(`http://127.0.0.1:8080${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": String(body.length) },
    body,
  });
