/**
 * How streams end at their bounds, over real sockets: a real gateway on 127.0.0.1, real fake
 * upstreams on 127.0.0.1 (a raw TCP server that closes its socket mid-body, `Deno.serve` servers
 * whose streams the test controls) and the real `fetch` client. Covered: an NDJSON stream whose
 * upstream breaks ends with Ollama's `{"error": …}` line; the usage event the gateway asked for is
 * stripped from SSE only; an Ollama stream without its `done: true` line is a failure; empty SSE
 * `data:` events are skipped by the dialect translators; a line over 8 MiB fails a translated
 * stream (the upstream let go) and flows on through a relay, only renamed.
 */

import assert from "node:assert/strict";
import { LINE_TOO_LONG, MAX_PARTIAL_LINE } from "../src/adapters/line_stream.ts";
import { startCutUpstream } from "./fakes/cut_upstream.ts";
import { eventually, startGateway, type TestGateway } from "./fakes/gateway.ts";

const ENC = new TextEncoder();
const USER = [{ role: "user", content: "hi" }];

/** A gateway config: `instances` (YAML list items) under chat, small timeouts, no failover. */
function yaml(instances: string): string {
  return `
model:
  health-check: { enabled: false }
  timeouts: { connect: 2s, first-byte: 5s, idle: 5s }
  retry: { max-attempts: 1 }
  services:
    chat:
      instances:
${instances}`;
}

/** The access-log records written so far. */
function accessLines(gw: TestGateway): Record<string, unknown>[] {
  return gw.logs.filter((l) => l.includes('"msg":"access"')).map((l) => JSON.parse(l));
}

/** Waits for the request's access line and for nothing to be in flight; returns the line. */
async function settled(gw: TestGateway, count = 1): Promise<Record<string, unknown>> {
  await eventually(() => accessLines(gw).length === count, `access line ${count}`);
  await eventually(() => gw.gateway.inFlight() === 0, "nothing in flight");
  return accessLines(gw)[count - 1];
}

function post(url: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** A gateway whose one instance, model `m`, is `url` (an OpenAI-speaking upstream). */
function plainGateway(url: string): TestGateway {
  return startGateway(yaml(`        - { name: m, base-url: "${url}" }\n`));
}

/** A gateway whose one instance is `instance` (YAML), behind a breaker that opens at one failure. */
function breakerGateway(instance: string): TestGateway {
  return startGateway(`
model:
  health-check: { enabled: false }
  services:
    chat:
      circuit-breaker: { failure-threshold: 1, timeout: 60s }
      instances:
        - ${instance}
`);
}

/** An Anthropic client's streamed request for model `m`. */
function anthropicStream(url: string): Promise<Response> {
  return post(url, "/v1/messages", { model: "m", max_tokens: 16, messages: USER, stream: true });
}

/** The `data:` payloads of an SSE text, parsed (`[DONE]` kept as the string). */
function sseData(text: string): unknown[] {
  return text.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim())
    .filter((d) => d !== "").map((d) => d === "[DONE]" ? d : JSON.parse(d));
}

/** The lines of an NDJSON text, parsed. */
function ndjson(text: string): Record<string, unknown>[] {
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

/** An OpenAI chat chunk as an SSE event. */
function chunk(delta: Record<string, unknown>, finish: string | null = null, model = "m"): string {
  return `data: ${
    JSON.stringify({
      id: "c1",
      object: "chat.completion.chunk",
      created: 1,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    })
  }\n\n`;
}

/** An Ollama `/api/chat` stream line. */
function ollamaLine(content: string, done = false, model = "m"): string {
  const line: Record<string, unknown> = {
    model,
    created_at: "2026-01-01T00:00:00Z",
    message: { role: "assistant", content },
    done,
  };
  if (done) Object.assign(line, { done_reason: "stop", prompt_eval_count: 3, eval_count: 2 });
  return `${JSON.stringify(line)}\n`;
}

// ---------------------------------------------------------------------------------------------
// A `Deno.serve` upstream whose answers the test writes.

interface Received {
  readonly path: string;
  readonly body: Record<string, unknown>;
}

interface ScriptedUpstream {
  readonly url: string;
  readonly requests: Received[];
  close(): Promise<void>;
}

/** Serves `answer`; its `stop` aborts when the test closes the upstream (held streams end then). */
function startUpstream(answer: (req: Received, stop: AbortSignal) => Response): ScriptedUpstream {
  const requests: Received[] = [];
  const stopping = new AbortController();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const text = await req.text();
    const received = { path: new URL(req.url).pathname, body: text ? JSON.parse(text) : {} };
    requests.push(received);
    return answer(received, stopping.signal);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    async close() {
      stopping.abort();
      await server.shutdown();
    },
  };
}

/** A streamed response of `parts`, one chunk each. */
function streamOf(type: string, parts: string[]): Response {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < parts.length) c.enqueue(ENC.encode(parts[i++]));
      else c.close();
    },
  }, { highWaterMark: 0 });
  return new Response(body, { headers: { "content-type": type } });
}

/** What a long-line stream saw of its reader. */
interface LongLine {
  /** The reader cancelled the stream (the gateway let the upstream go). */
  cancelled: boolean;
  /** The stream ended by itself. */
  completed: boolean;
}

/** A stream with one line of more than 8 MiB; see {@linkcode longLineStream}. */
interface LongLinePlan {
  readonly type: string;
  /** Complete lines first. */
  readonly head: string;
  /** The start of the long line; `size` bytes of `a` follow, without a line end. */
  readonly line: string;
  readonly size: number;
  /** The end of the long line and what follows, sent once `gate` resolves; absent: nothing more. */
  readonly tail?: string;
  readonly gate?: Promise<void>;
}

/**
 * A stream of `plan` (the long line generated in 64 KiB chunks as they are pulled, never whole in
 * memory). Without a tail it stays open after the long line until it is cancelled or `stop` aborts.
 */
function longLineStream(plan: LongLinePlan, state: LongLine, stop: AbortSignal): Response {
  const block = 64 * 1024;
  let phase: "head" | "line" | "tail" | "end" = "head";
  let filled = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (phase === "head") {
        phase = "line";
        return c.enqueue(ENC.encode(plan.head + plan.line));
      }
      if (phase === "line" && filled < plan.size) {
        const n = Math.min(block, plan.size - filled);
        filled += n;
        return c.enqueue(new Uint8Array(n).fill(0x61));
      }
      if (phase === "line" && plan.tail !== undefined) {
        phase = "tail";
        await plan.gate;
        return c.enqueue(ENC.encode(plan.tail));
      }
      if (phase === "line") {
        await new Promise((r) =>
          stop.aborted ? r(undefined) : stop.addEventListener("abort", r, { once: true })
        );
      }
      phase = "end";
      state.completed = true;
      c.close();
    },
    cancel() {
      state.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return new Response(body, { headers: { "content-type": plan.type } });
}

// ---------------------------------------------------------------------------------------------
// 1. An NDJSON stream whose upstream closes its socket mid-body ends with Ollama's error line.

Deno.test("an Ollama client's stream whose upstream socket closes mid-body ends with an NDJSON {error} line, logged as failed", async () => {
  const up = startCutUpstream((path) =>
    path === "/api/chat"
      ? { type: "application/x-ndjson", body: ollamaLine("Hel") }
      : { type: "text/event-stream", body: chunk({ role: "assistant", content: "Hel" }) }
  );
  const gw = startGateway(yaml(`
        - { name: native, base-url: "${up.url}", adapter: ollama, native-dialects: [ollama] }
        - { name: mapped, base-url: "${up.url}", adapter: ollama, path: /api/chat }
        - { name: translated, base-url: "${up.url}" }
`));
  try {
    const relays = [
      ["native", "/api/chat", "relayed as it came"],
      ["mapped", "/api/chat", "Ollama NDJSON → OpenAI SSE → Ollama NDJSON"],
      ["translated", "/v1/chat/completions", "OpenAI SSE → Ollama NDJSON"],
    ] as const;
    for (const [i, [model, path, what]] of relays.entries()) {
      const res = await post(gw.url, "/api/chat", { model, messages: USER, stream: true });
      assert.equal(res.status, 200, model);
      assert.match(res.headers.get("content-type") ?? "", /^application\/x-ndjson/, model);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!text.includes("\n")) {
        const r = await reader.read();
        assert.ok(!r.done, `${model}: the first line arrives before the cut`);
        text += r.value;
      }
      up.cut();
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
      const lines = ndjson(text);
      assert.equal((lines[0].message as { content: string }).content, "Hel", `${model} (${what}): ${text}`);
      const last = lines.at(-1)!;
      assert.deepEqual(Object.keys(last), ["error"], `${model} (${what}) ends with an error line: ${text}`);
      assert.match(last.error as string, /^Upstream stream ended abnormally: /, `${model}: ${text}`);
      assert.ok(!lines.some((l) => l.done === true), `${model}: an incomplete answer is not marked done`);
      assert.equal(up.paths[i], path, model);
      const access = await settled(gw, i + 1);
      assert.equal(access.model, model);
      assert.equal(access.status, 200);
      assert.equal(access.error, "upstream_body", `${model}: the access log records the failure`);
      assert.equal(gw.gateway.inFlight(), 0);
    }
  } finally {
    await gw.close();
    await up.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 2. The usage event the gateway asked for is stripped from SSE, and only from SSE.

const USAGE = { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 };
/** A usage-only answer in JSON, ending with a blank line as an SSE event would. */
const USAGE_JSON = `${
  JSON.stringify({ id: "j1", object: "chat.completion", choices: [], usage: USAGE })
}\n\n`;

Deno.test("the usage event the gateway asked for is stripped from an SSE answer; a non-SSE answer to a stream request passes byte for byte", async () => {
  const up = startUpstream(({ body }) =>
    body.model === "json"
      // Two chunks, no content-length: relayed as a stream, not read whole.
      ? streamOf("application/json", [USAGE_JSON.slice(0, 20), USAGE_JSON.slice(20)])
      : streamOf("text/event-stream", [
        chunk({ role: "assistant", content: "Hi" }),
        chunk({}, "stop"),
        `data: ${
          JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [], usage: USAGE })
        }\n\n`,
        "data: [DONE]\n\n",
      ])
  );
  const gw = startGateway(yaml(`
        - { name: sse, base-url: "${up.url}" }
        - { name: json, base-url: "${up.url}" }
`));
  try {
    // SSE: the gateway asks for usage, reads it for its accounting and hides it from the client.
    const sse = await post(gw.url, "/v1/chat/completions", { model: "sse", messages: USER, stream: true });
    assert.equal(sse.status, 200);
    const events = sseData(await sse.text());
    assert.deepEqual(up.requests[0].body.stream_options, { include_usage: true }, "the gateway asked");
    assert.equal(events.length, 3, JSON.stringify(events));
    assert.equal(events.at(-1), "[DONE]");
    assert.ok(events.every((e) => e === "[DONE]" || !("usage" in (e as object))), "no usage event");
    const access = await settled(gw, 1);
    assert.equal(access.error, null);
    assert.equal(access.tokensIn, 7, "the stripped event still counted");
    assert.equal(access.tokensOut, 2);

    // The client asked for usage itself: nothing is added, nothing stripped.
    const asked = await post(gw.url, "/v1/chat/completions", {
      model: "sse",
      messages: USER,
      stream: true,
      stream_options: { include_usage: true },
    });
    const kept = sseData(await asked.text());
    assert.equal(kept.length, 4);
    assert.deepEqual((kept[2] as { usage: unknown }).usage, USAGE);
    await settled(gw, 2);

    // A JSON answer to a stream request: no SSE, so no event to strip — byte for byte.
    const json = await post(gw.url, "/v1/chat/completions", { model: "json", messages: USER, stream: true });
    assert.equal(json.status, 200);
    assert.match(json.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal(json.headers.get("content-length"), null, "relayed as a stream");
    assert.deepEqual(await json.bytes(), ENC.encode(USAGE_JSON));
    assert.deepEqual(up.requests[2].body.stream_options, { include_usage: true }, "the gateway asked");
    const jsonAccess = await settled(gw, 3);
    assert.equal(jsonAccess.model, "json");
    assert.equal(jsonAccess.error, null);
  } finally {
    await gw.close();
    await up.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 3. An Ollama chat stream that ends cleanly without its `done: true` line is a failure.

Deno.test("an Ollama /api/chat stream that ends without done: true ends with the client's error event and is logged as failed", async () => {
  const up = startUpstream(({ path }) => {
    assert.equal(path, "/api/chat");
    return streamOf("application/x-ndjson", [ollamaLine("Hel"), ollamaLine("lo")]); // no done line
  });
  const gw = startGateway(yaml(`
        - { name: cut, base-url: "${up.url}", adapter: ollama, path: /api/chat }
`));
  const MESSAGE = "The Ollama stream ended before its last message (done: true).";
  try {
    // An OpenAI client: the tokens, then an SSE error event — no finish reason, no [DONE].
    const sse = await post(gw.url, "/v1/chat/completions", { model: "cut", messages: USER, stream: true });
    assert.equal(sse.status, 200);
    assert.match(sse.headers.get("content-type") ?? "", /^text\/event-stream/);
    const text = await sse.text();
    const events = sseData(text) as Record<string, unknown>[];
    const content = events.map((e) =>
      (e.choices as { delta: { content?: string } }[] | undefined)?.[0]?.delta.content ?? ""
    ).join("");
    assert.equal(content, "Hello", text);
    assert.ok(!text.includes("[DONE]"), text);
    assert.ok(!text.includes('"finish_reason":"stop"'), text);
    assert.deepEqual(events.at(-1), {
      error: { message: MESSAGE, type: "upstream_error", code: "upstream_stream_error" },
    });
    const access = await settled(gw, 1);
    assert.equal(access.error, "upstream_body", "the access log records the failure");

    // An Ollama client: its lines, then Ollama's {"error"} line — never a line with done: true.
    const nd = await post(gw.url, "/api/chat", { model: "cut", messages: USER, stream: true });
    assert.equal(nd.status, 200);
    const lines = ndjson(await nd.text());
    assert.equal(
      lines.map((l) => (l.message as { content?: string } | undefined)?.content ?? "").join(""),
      "Hello",
    );
    assert.ok(!lines.some((l) => l.done === true), JSON.stringify(lines));
    assert.deepEqual(lines.at(-1), { error: MESSAGE });
    const ollamaAccess = await settled(gw, 2);
    assert.equal(ollamaAccess.dialect, "ollama");
    assert.equal(ollamaAccess.error, "upstream_body");
  } finally {
    await gw.close();
    await up.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 4. Empty `data:` events are no events: the translated stream is complete, without an error.

Deno.test("empty SSE data: events from an OpenAI backend are skipped in the Anthropic and Ollama translations", async () => {
  const up = startUpstream(() =>
    streamOf("text/event-stream", [
      chunk({ role: "assistant", content: "" }),
      "data:\n\n",
      chunk({ content: "Hel" }),
      "data: \n\n",
      chunk({ content: "lo" }) + "data:\r\n\r\n",
      chunk({}, "stop"),
      `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [], usage: USAGE })}\n\n`,
      "data: [DONE]\n\n",
    ])
  );
  const gw = plainGateway(up.url);
  try {
    const res = await anthropicStream(gw.url);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(!text.includes("event: error"), text);
    const events = text.split("\n\n").filter((e) => e.trim() !== "").map((e) =>
      /^event: (.*)$/m.exec(e)?.[1]
    );
    assert.deepEqual(events.filter((e) => e !== "ping"), [
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ], text);
    const data = sseData(text) as { delta?: { text?: string; stop_reason?: string } }[];
    assert.equal(data.map((d) => d.delta?.text ?? "").join(""), "Hello");
    assert.equal(data.find((d) => d.delta?.stop_reason)?.delta?.stop_reason, "end_turn");
    assert.equal((await settled(gw, 1)).error, null);

    const nd = await post(gw.url, "/api/chat", { model: "m", messages: USER, stream: true });
    assert.equal(nd.status, 200);
    const lines = ndjson(await nd.text());
    assert.ok(lines.every((l) => !("error" in l)), JSON.stringify(lines));
    assert.equal(lines.map((l) => (l.message as { content: string }).content).join(""), "Hello");
    assert.equal(lines.at(-1)!.done, true);
    assert.equal(lines.at(-1)!.done_reason, "stop");
    assert.equal((await settled(gw, 2)).error, null);
  } finally {
    await gw.close();
    await up.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 5. No stream reader holds more than 8 MiB of an unfinished line.

/** A little over the bound. */
const OVER = MAX_PARTIAL_LINE + 256 * 1024;

Deno.test("a line over 8 MiB from an Ollama backend ends the translated stream with an error naming the cause, and the upstream is let go", async () => {
  const streams: LongLine[] = [];
  const up = startUpstream(({ path }, stop) => {
    assert.equal(path, "/api/chat");
    const state = { cancelled: false, completed: false };
    streams.push(state);
    return longLineStream(
      {
        type: "application/x-ndjson",
        head: ollamaLine("Hel"),
        line: '{"model":"m","message":{"role":"assistant","content":"',
        size: OVER,
      },
      state,
      stop,
    );
  });
  const gw = startGateway(yaml(`
        - { name: o, base-url: "${up.url}", adapter: ollama, path: /api/chat }
`));
  const CAUSE = `Upstream stream ended abnormally: ${LINE_TOO_LONG}`;
  try {
    // An OpenAI client: Ollama NDJSON → OpenAI SSE.
    const sse = await post(gw.url, "/v1/chat/completions", { model: "o", messages: USER, stream: true });
    assert.equal(sse.status, 200);
    const text = await sse.text();
    const events = sseData(text) as Record<string, unknown>[];
    assert.equal(events.length, 2, text);
    assert.equal((events[0].choices as { delta: { content: string } }[])[0].delta.content, "Hel");
    assert.deepEqual(events[1], {
      error: { message: CAUSE, type: "upstream_error", code: "upstream_stream_error" },
    });
    const access = await settled(gw, 1);
    assert.equal(access.error, "upstream_body", "failed by the bound, not by the idle timeout");
    await eventually(() => streams[0].cancelled, "the upstream stream cancelled");
    assert.ok(!streams[0].completed);

    // An Ollama client: Ollama NDJSON → OpenAI SSE → Ollama NDJSON.
    const nd = await post(gw.url, "/api/chat", { model: "o", messages: USER, stream: true });
    assert.equal(nd.status, 200);
    const lines = ndjson(await nd.text());
    assert.equal(lines.length, 2, JSON.stringify(lines));
    assert.equal((lines[0].message as { content: string }).content, "Hel");
    assert.deepEqual(lines[1], { error: CAUSE });
    assert.equal((await settled(gw, 2)).error, "upstream_body");
    await eventually(() => streams[1].cancelled, "the upstream stream cancelled");
    assert.equal(gw.gateway.inFlight(), 0);
  } finally {
    await gw.close();
    await up.close();
  }
});

Deno.test("a line over 8 MiB passes the usage stripper as it is and the model rename renamed, held by neither", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const state = { cancelled: false, completed: false };
  const BACKEND = "Org/Backend-Model";
  const up = startUpstream((_req, stop) =>
    longLineStream(
      {
        type: "text/event-stream",
        head: chunk({ role: "assistant", content: "Hel" }, null, BACKEND),
        line: `data: {"model":"${BACKEND}","choices":[{"index":0,"delta":{"content":"`,
        size: OVER,
        tail: `"},"finish_reason":null}]}\n\n${chunk({}, "stop", BACKEND)}` +
          `data: ${JSON.stringify({ model: BACKEND, choices: [], usage: USAGE })}\n\ndata: [DONE]\n\n`,
        gate,
      },
      state,
      stop,
    )
  );
  const gw = startGateway(yaml(`
        - { name: public, base-url: "${up.url}", upstream-model: "${BACKEND}" }
`));
  try {
    const res = await post(gw.url, "/v1/chat/completions", { model: "public", messages: USER, stream: true });
    assert.equal(res.status, 200);
    assert.equal(up.requests[0].body.model, BACKEND);
    assert.deepEqual(up.requests[0].body.stream_options, { include_usage: true }, "the gateway asked");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let raw = "";
    let received = 0;
    // The line's end is sent only once more than 8 MiB of it reached the client: nothing holds it.
    while (received <= MAX_PARTIAL_LINE) {
      const r = await reader.read();
      assert.ok(!r.done, "the stream goes on");
      raw += decoder.decode(r.value, { stream: true });
      received += r.value.length;
    }
    release();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      raw += decoder.decode(r.value, { stream: true });
    }
    const run = "a".repeat(64);
    const [from, to] = [raw.indexOf(run), raw.lastIndexOf(run) + run.length];
    assert.equal(to - from, OVER, "every byte of the long line arrived");
    const text = `${raw.slice(0, from)}<line>${raw.slice(to)}`;
    assert.ok(state.completed && !state.cancelled, "the upstream stream ran to its end");
    const events = text.split("\n\n").filter((e) => e !== "");
    assert.deepEqual(events.map((e) => /"model":"([^"]*)"/.exec(e)?.[1] ?? e), [
      "public",
      "public", // the over-long line: the rename holds no line, so its length does not matter
      "public",
      "data: [DONE]",
    ], text);
    assert.ok(events[1].endsWith('<line>"},"finish_reason":null}]}'), "whole, only renamed");
    assert.ok(!text.includes('"usage"'), "the usage event the gateway asked for is still stripped");
    const access = await settled(gw);
    assert.equal(access.error, null);
    assert.equal(access.tokensOut, 2);
  } finally {
    release();
    await gw.close();
    await up.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 6. A translation that ends the client's stream with its own error event fails the attempt and
// lets the upstream go at once.

Deno.test("a translated stream that ends with the dialect's error event is logged as failed, and its upstream is let go at once", async () => {
  // After its error event (or its unfinished last chunk) the upstream would stream for 30 s more.
  let cancelled = 0;
  const up = startUpstream((req) => {
    const truncated = (req.body.messages as { content: string }[])[0].content === "truncated";
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (i === 0) c.enqueue(ENC.encode(chunk({ role: "assistant", content: "Hel" })));
        else if (i === 1 && !truncated) c.enqueue(ENC.encode(`data: {"error":{"message":"boom"}}\n\n`));
        else if (i === 1) return c.close(); // closes before its finish reason
        else {
          await new Promise((r) => setTimeout(r, 1000));
          if (i > 30) return c.close();
          c.enqueue(ENC.encode(chunk({ content: "!" })));
        }
        i++;
      },
      cancel: () => void cancelled++,
    }, { highWaterMark: 0 });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  const gw = plainGateway(up.url);
  try {
    const started = Date.now();
    const res = await anthropicStream(gw.url);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /event: error\ndata: .*"boom"/);
    assert.ok(Date.now() - started < 5000, "the client's stream ended with its error event, not 30 s later");
    const line = await settled(gw, 1);
    assert.equal(line.error, "upstream_body");
    await eventually(() => cancelled === 1, "the upstream's stream cancelled");

    const cut = await post(gw.url, "/api/chat", {
      model: "m",
      messages: [{ role: "user", content: "truncated" }],
      stream: true,
    });
    const lines = ndjson(await cut.text());
    assert.match(String(lines.at(-1)!.error), /ended before the answer was complete/);
    assert.equal((await settled(gw, 2)).error, "upstream_body");
  } finally {
    await gw.close();
    await up.close();
  }
});

Deno.test("a relayed stream that carries the upstream's error event reaches the client as it came and counts as the instance's failure", async (t) => {
  const up = startUpstream(() =>
    streamOf("text/event-stream", [
      chunk({ role: "assistant", content: "Hel" }, null, "Org/Model"),
      `data: {"error":{"message":"CUDA out of memory","type":"InternalServerError","code":500}}\n\n`,
      "data: [DONE]\n\n",
    ])
  );
  try {
    for (const extra of ["", `, upstream-model: "Org/Model"`]) {
      await t.step(extra === "" ? "as it came" : "renamed (upstream-model)", async () => {
        const gw = breakerGateway(`{ name: m, base-url: "${up.url}"${extra} }`);
        try {
          const res = await post(gw.url, "/v1/chat/completions", {
            model: "m",
            messages: USER,
            stream: true,
          });
          assert.equal(res.status, 200);
          const data = sseData(await res.text());
          assert.deepEqual(data.at(-2), {
            error: { message: "CUDA out of memory", type: "InternalServerError", code: 500 },
          }, "the upstream's own event, untouched");
          assert.equal(data.at(-1), "[DONE]");
          const line = await settled(gw, 1);
          assert.equal(line.error, "upstream_body");
          const status = await (await fetch(`${gw.url}/v1/chat/status`)).json();
          assert.equal(status.instances[0].breaker, "open", "the failure reached the breaker");
        } finally {
          await gw.close();
        }
      });
    }
  } finally {
    await up.close();
  }
});

Deno.test("a natively relayed Responses stream that ends with response.failed counts as the instance's failure", async () => {
  const event = (type: string, data: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const up = startUpstream(() =>
    streamOf("text/event-stream", [
      event("response.created", { response: { id: "r1", status: "in_progress" } }),
      event("response.output_text.delta", { delta: "Hel" }),
      event("response.failed", {
        response: {
          id: "r1",
          status: "failed",
          error: { code: "server_error", message: "engine overloaded" },
        },
      }),
    ])
  );
  const gw = breakerGateway(
    `{ name: m, base-url: "${up.url}", adapter: vllm, native-dialects: [responses] }`,
  );
  try {
    const res = await post(gw.url, "/v1/responses", { model: "m", input: "hi", stream: true });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /event: response\.failed/, "the upstream's own events, as they came");
    assert.equal(up.requests[0].path, "/v1/responses", "relayed natively");
    assert.equal((await settled(gw, 1)).error, "upstream_body");
    const status = await (await fetch(`${gw.url}/v1/chat/status`)).json();
    assert.equal(status.instances[0].breaker, "open");
  } finally {
    await gw.close();
    await up.close();
  }
});

Deno.test("a usage event that arrives in many small pieces is still counted", async () => {
  const text = chunk({ role: "assistant", content: "Hi" }) + chunk({}, "stop") +
    `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [], usage: USAGE })}\n\n` +
    "data: [DONE]\n\n";
  const pieces = text.match(/[^]{1,5}/g)!;
  const up = startUpstream(() => {
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (i === pieces.length) return c.close();
        await new Promise((r) => setTimeout(r, 1)); // each piece its own write
        c.enqueue(ENC.encode(pieces[i++]));
      },
    }, { highWaterMark: 0 });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  const gw = plainGateway(up.url);
  try {
    const res = await post(gw.url, "/v1/chat/completions", {
      model: "m",
      messages: USER,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(await res.text(), text, "relayed byte for byte");
    const line = await settled(gw, 1);
    assert.deepEqual([line.tokensIn, line.tokensOut], [USAGE.prompt_tokens, USAGE.completion_tokens]);
  } finally {
    await gw.close();
    await up.close();
  }
});
