/**
 * One upstream attempt in process, table-driven: each timeout at its phase (headers, idle gap
 * before and after the first chunk, total), the client leaving at each phase, streams that
 * break, and stream usage accounting. Same harness as `dispatch_test.ts`: manual time, scripted
 * upstreams, every counter back to zero at the end of each row.
 */

import assert from "node:assert/strict";
import { type Case, CHAT, type Harness, runCases, serviceConfig, settle, type Step } from "./_testing.ts";

const C1 = 'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n';
const USAGE = 'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n';
const DONE = "data: [DONE]\n\n";
const SSE: Step = { body: [C1, DONE] };
const STREAM = { ...CHAT, stream: true };
const MIB = "x".repeat(1024 * 1024);

/** Timeouts in ms (connect folded into the header wait). */
const timeouts = (t: Record<string, number>) => ({ timeouts: { connect: 0, ...t } });

/** Reads the answer while time moves `ms` on (for deadlines that fall mid-body). */
const readWhile = (ms: number) => async (res: Response, h: Harness) => {
  const text = res.text();
  await h.time.advance(ms);
  return await text;
};

/** Reads `n` chunks of the answer, then leaves (cancels the body). */
const leaveAfter = (n: number) => async (res: Response) => {
  const reader = res.body!.getReader();
  let text = "";
  for (let i = 0; i < n; i++) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  return text;
};

const lastLog = (h: Harness) => JSON.parse(h.logs.at(-1)!) as Record<string, unknown>;
const failures = (h: Harness, label: string) => h.upstream(label).breaker.snapshot().failures;
const upstreamAborted = (h: Harness, i: number, name: string) => {
  const signal = h.upstreams.calls[i].signal;
  assert.ok(signal.aborted, "the upstream request was aborted");
  assert.equal((signal.reason as Error).name, name);
};
const errorEvent = (reason: RegExp) => (body: unknown) => {
  const text = body as string;
  assert.ok(text.startsWith(C1), "the chunk before the break reached the client");
  const event = JSON.parse(text.slice(C1.length).replace(/^data: /, ""));
  assert.equal(event.error.code, "upstream_stream_error");
  assert.match(event.error.message, reason);
};

const CASES: Case[] = [
  {
    name: "a refused connection fails over",
    config: serviceConfig(["a", "b"]),
    script: { a: ["reset"], b: [SSE] },
    request: STREAM,
    status: 200,
    answer: (body) => assert.equal(body, C1 + DONE),
    tried: ["a", "b"],
    after: (h) => assert.equal(failures(h, "a"), 1),
  },
  {
    name: "headers not in within connect + first-byte: timeout, failover",
    config: serviceConfig(["a", "b"], timeouts({ connect: 100, "first-byte": 900 })),
    script: { a: ["hang"], b: [SSE] },
    request: STREAM,
    drive: async (h) => {
      await h.time.advance(999);
      assert.deepEqual(h.upstreams.tried, ["a"], "still within connect + first-byte");
      await h.time.advance(1);
    },
    status: 200,
    tried: ["a", "b"],
    after: (h) => {
      upstreamAborted(h, 0, "TimeoutError");
      assert.equal(failures(h, "a"), 1);
    },
  },
  {
    name: "headers not in on the only instance: 504 upstream_timeout",
    config: serviceConfig(["a"], timeouts({ "first-byte": 900 })),
    script: { a: ["hang"] },
    drive: (h) => h.time.advance(900),
    status: 504,
    answer: (body) => assert.equal((body as { error: { code: string } }).error.code, "upstream_timeout"),
    tried: ["a"],
  },
  {
    name: "an idle gap before the first chunk is a retryable timeout",
    config: serviceConfig(["a", "b"], timeouts({ idle: 500 })),
    script: { a: [{ body: ["hang"] }], b: [SSE] },
    request: STREAM,
    drive: (h) => h.time.advance(500),
    status: 200,
    answer: (body) => assert.equal(body, C1 + DONE),
    tried: ["a", "b"],
    after: (h) => upstreamAborted(h, 0, "TimeoutError"),
  },
  {
    name: "an idle gap after the first chunk ends the stream with an SSE error event",
    config: serviceConfig(["a"], timeouts({ idle: 500 })),
    script: { a: [{ body: [C1, 400, C1, 400, C1, "hang"] }] },
    request: STREAM,
    read: readWhile(1300),
    status: 200,
    answer: (body) => {
      assert.ok((body as string).startsWith(C1 + C1 + C1), "every chunk re-arms the idle deadline");
      errorEvent(/upstream idle timeout/)((body as string).slice(2 * C1.length));
    },
    tried: ["a"],
    after: (h) => {
      assert.equal(lastLog(h).error, "upstream_timeout");
      assert.equal(failures(h, "a"), 1);
    },
  },
  {
    name: "a client that takes nothing for the idle timeout is cut as its own doing, not the instance's",
    config: serviceConfig(["a"], timeouts({ idle: 500 })),
    script: { a: [{ body: [C1, C1, DONE] }] },
    request: STREAM,
    read: async (res, h) => {
      const reader = res.body!.getReader();
      let text = new TextDecoder().decode((await reader.read()).value);
      await h.time.advance(499);
      assert.ok(!h.upstreams.calls[0].signal.aborted, "within the idle timeout");
      await h.time.advance(1); // the client still has not asked for the next chunk
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        text += new TextDecoder().decode(r.value);
      }
      return text;
    },
    status: 200,
    answer: (body) => {
      assert.ok((body as string).startsWith(C1));
      assert.match((body as string).slice(C1.length), /the client took nothing \(0\.5 s\)/);
    },
    tried: ["a"],
    after: (h) => {
      upstreamAborted(h, 0, "TimeoutError");
      assert.equal(failures(h, "a"), 0, "a client that does not read is no failure of the instance");
      assert.equal(lastLog(h).error, "client_abort");
    },
  },
  {
    name: "the total timeout cuts a stream that keeps flowing",
    config: serviceConfig(["a"], timeouts({ idle: 0, total: 1000 })),
    script: { a: [{ body: [C1, 600, C1, 600, C1, DONE] }] },
    request: STREAM,
    read: readWhile(1200),
    status: 200,
    answer: (body) => errorEvent(/upstream total timeout/)((body as string).slice(C1.length)),
    tried: ["a"],
    after: (h) => upstreamAborted(h, 0, "TimeoutError"),
  },
  {
    name: "a client gone before the first attempt starts: 499, the upstream request aborted at once",
    config: serviceConfig(["a"]),
    script: { a: [SSE] },
    clientGone: true,
    status: 499,
    tried: ["a"],
    after: (h) => upstreamAborted(h, 0, "AbortError"),
  },
  {
    name: "the client leaving before the headers: 499, upstream aborted, no breaker failure",
    config: serviceConfig(["a", "b"]),
    script: { a: ["hang"], b: [SSE] },
    drive: (_, client) => client.abort(),
    status: 499,
    tried: ["a"],
    after: (h) => {
      upstreamAborted(h, 0, "AbortError");
      assert.equal(failures(h, "a"), 0);
      assert.equal(lastLog(h).error, "client_abort");
    },
  },
  {
    name: "the client leaving after the headers, before the first chunk: 499",
    config: serviceConfig(["a", "b"]),
    script: { a: [{ body: ["hang"] }], b: [SSE] },
    request: STREAM,
    drive: (_, client) => client.abort(),
    status: 499,
    tried: ["a"],
    after: (h) => {
      upstreamAborted(h, 0, "AbortError");
      assert.equal(lastLog(h).status, 499);
    },
  },
  {
    name: "the client leaving mid-stream aborts the upstream and settles the attempt as an abort",
    config: serviceConfig(["a"]),
    script: { a: [{ body: [C1, "hang"] }] },
    request: STREAM,
    read: leaveAfter(1),
    status: 200,
    answer: (body) => assert.equal(body, C1),
    tried: ["a"],
    after: (h) => {
      upstreamAborted(h, 0, "AbortError");
      assert.equal(failures(h, "a"), 0);
      assert.equal(lastLog(h).error, "client_abort");
    },
  },
  {
    name: "a client leaving right after [DONE] got the whole answer: a success",
    config: serviceConfig(["a"]),
    script: { a: [{ body: [C1, DONE, "hang"] }] },
    request: STREAM,
    read: leaveAfter(2),
    status: 200,
    tried: ["a"],
    after: (h) => {
      assert.equal(lastLog(h).error, null);
      assert.ok(h.upstream("a").stats.latencyEwmaMs >= 0);
    },
  },
  {
    name: "the shutdown cut while waiting for headers: 503 gateway_shutdown, no instance blamed",
    config: serviceConfig(["a", "b"]),
    script: { a: ["hang"], b: [SSE] },
    drive: (h) => void h.gateway.cut(),
    status: 503,
    answer: (body) => assert.equal((body as { error: { code: string } }).error.code, "gateway_shutdown"),
    tried: ["a"],
    after: (h) => {
      assert.equal(failures(h, "a"), 0);
      assert.equal(lastLog(h).error, "gateway_shutdown");
    },
  },
  {
    name: "the shutdown cut mid-stream ends it with a gateway_shutdown SSE event, no instance blamed",
    config: serviceConfig(["a"]),
    script: { a: [{ body: [C1, "hang"] }] },
    request: STREAM,
    read: async (res, h) => {
      const text = res.text();
      await settle();
      h.gateway.cut();
      return await text;
    },
    status: 200,
    answer: (body) => {
      const text = body as string;
      assert.ok(text.startsWith(C1));
      assert.equal(JSON.parse(text.slice(C1.length + 6)).error.code, "gateway_shutdown");
    },
    tried: ["a"],
    after: (h) => {
      assert.equal(failures(h, "a"), 0);
      assert.equal(lastLog(h).error, "shutdown");
    },
  },
  {
    name: "a stream broken after its first chunk ends with an SSE error event, never a hang",
    config: serviceConfig(["a", "b"]),
    script: { a: [{ body: [C1, "reset"] }], b: [SSE] },
    request: STREAM,
    status: 200,
    answer: errorEvent(/Upstream stream ended abnormally: .*connection reset/),
    tried: ["a"],
    after: (h) => {
      assert.equal(failures(h, "a"), 1);
      assert.equal(lastLog(h).error, "upstream_body");
    },
  },
  {
    name: "a body that breaks before its first chunk is retried elsewhere",
    config: serviceConfig(["a", "b"]),
    script: { a: [{ body: ["reset"] }], b: [SSE] },
    request: STREAM,
    status: 200,
    answer: (body) => assert.equal(body, C1 + DONE),
    tried: ["a", "b"],
  },
  {
    name: "stream usage is asked of a backend that accepts stream_options, counted, and hidden",
    config: serviceConfig(["a"]),
    script: { a: [{ body: [C1, USAGE, DONE] }] },
    request: STREAM,
    status: 200,
    answer: (body) => assert.equal(body, C1 + DONE),
    tried: ["a"],
    after: (h) => {
      assert.deepEqual(JSON.parse(h.upstreams.calls[0].body).stream_options, { include_usage: true });
      assert.equal(lastLog(h).tokensIn, 3);
      assert.equal(lastLog(h).tokensOut, 2);
    },
  },
  {
    name: "a backend that does not accept stream_options gets the client's own bytes",
    config: serviceConfig(["a"], { adapter: "xinference" }),
    script: { a: [SSE] },
    request: STREAM,
    status: 200,
    tried: ["a"],
    after: (h) => assert.equal(h.upstreams.calls[0].body, JSON.stringify(STREAM)),
  },
  {
    name: "a JSON answer read whole to be rewritten keeps arriving: every piece moves the idle deadline",
    config: serviceConfig(["a"], { adapter: "ollama", ...timeouts({ idle: 1000 }) }, "chat", {
      path: "/api/chat",
    }),
    script: {
      a: [{
        headers: { "content-type": "application/json" },
        body: ['{"model":"m","message":{"role":"assistant",', 900, '"content":"hi"},', 900, '"done":true}'],
      }],
    },
    request: CHAT,
    drive: async (h) => await h.time.advance(1800),
    status: 200,
    answer: (body) =>
      assert.equal(
        (body as { choices: { message: { content: string } }[] }).choices[0].message.content,
        "hi",
      ),
    tried: ["a"],
  },
  {
    name: "an NDJSON stream relayed as it came that breaks ends with Ollama's error line, not a reset",
    config: serviceConfig(["a"]),
    script: { a: [{ headers: { "content-type": "application/x-ndjson" }, body: ['{"a":1}\n', "reset"] }] },
    request: STREAM,
    read: async (res) => JSON.stringify(await res.text()), // one JSON string: the lines as they came
    status: 200,
    answer: (body) => {
      const [line, error, rest] = String(body).split("\n");
      assert.equal(line, '{"a":1}');
      assert.match(JSON.parse(error).error, /^Upstream stream ended abnormally: .*connection reset/);
      assert.equal(rest, "");
    },
    tried: ["a"],
    after: (h) => assert.equal(failures(h, "a"), 1),
  },
  {
    name: "a JSON answer to rewrite (Ollama's) that never stops is cut past 32 MiB: 502, the upstream let go",
    config: serviceConfig(["a"], { adapter: "ollama" }, "chat", { path: "/api/chat" }),
    script: { a: [{ headers: { "content-type": "application/json" }, body: Array(40).fill(MIB) }] },
    request: CHAT,
    status: 502,
    answer: (body) => assert.match(JSON.stringify(body), /over 32 MiB, too large to rewrite/),
    tried: ["a"],
    after: (h) => {
      assert.equal(failures(h, "a"), 1);
      assert.equal(h.upstreams.openBodies, 0, "the upstream body was cancelled");
    },
  },
];

runCases("attempt", CASES);
