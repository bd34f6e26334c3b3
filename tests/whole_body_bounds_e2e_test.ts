/**
 * The bounds of non-streamed answers, over real sockets: a real gateway on 127.0.0.1, real fake
 * upstreams on 127.0.0.1 (one small `Deno.serve` per case, below), the real `fetch` client.
 *
 * - An answer the gateway must rewrite whole (a client dialect's translation, an adapter's
 *   `mapJson`) is read whole only up to 32 MiB (`REWRITE_BODY_MAX`, attempt.ts): past that the
 *   client gets a 502 in its own dialect, the upstream is let go, nothing stays in flight and the
 *   next request is served. An answer the gateway does not read whole flows on complete, however
 *   long.
 * - Reading such an answer whole (`readToEnd`, upstream_body.ts) moves the idle deadline on every
 *   piece: a slow but steady answer is served, one that stops mid-body is a 504 after `idle`.
 * - The `cache` fallback keeps answers up to 1 MiB (`CACHE_ENTRY_MAX`, fallback.ts): a small one
 *   answers for failed instances later; a longer one reaches the client whole and is not kept.
 *   An answer whose upstream connection breaks while it is read for the cache is cut for the
 *   client too (a raw TCP upstream, `fakes/cut_upstream.ts`), with one access line, not a 500.
 *
 * Answers are built without a declared length unless said (a `ReadableStream`, sent chunked), so
 * the gateway cannot read them in one go; the big ones are one 256 KiB chunk sent again and again,
 * produced only as fast as the gateway reads them (never held whole, on either side).
 */

import assert from "node:assert/strict";
import { startCutUpstream } from "./fakes/cut_upstream.ts";
import { eventually, startGateway, type TestGateway } from "./fakes/gateway.ts";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";

const MIB = 1024 * 1024;
const enc = new TextEncoder();
const dec = new TextDecoder();
const X = 0x78; // "x"
const FILL = enc.encode("x".repeat(256 * 1024));

/** What a fake upstream's answer is made of: bytes, a pause (ms), or `HOLD` (stay open, send nothing more). */
type Piece = Uint8Array | number | typeof HOLD;
const HOLD = Symbol("hold");

/** How one answer body went, seen from the upstream. */
interface Sent {
  bytes: number;
  /** The gateway closed the connection before the body's end. */
  cancelled: boolean;
  /** The upstream sent the whole body. */
  ended: boolean;
}

/** A small upstream on loopback: `answer` builds each response from the request's JSON body. */
interface Upstream {
  readonly url: string;
  /** Each request's JSON body, in order. */
  readonly requests: Record<string, unknown>[];
  /** Each streamed answer body, in order. */
  readonly bodies: Sent[];
  close(): Promise<void>;
}

type Answer = (
  body: Record<string, unknown>,
  stream: (pieces: Iterable<Piece>) => ReadableStream,
) => Response;

function startUpstream(answer: Answer): Upstream {
  const requests: Record<string, unknown>[] = [];
  const bodies: Sent[] = [];
  const open = new Set<ReadableStreamDefaultController>();
  // A body produced on demand (highWaterMark 0): only as fast as the gateway reads it.
  const stream = (pieces: Iterable<Piece>): ReadableStream => {
    const it = pieces[Symbol.iterator]();
    const sent: Sent = { bytes: 0, cancelled: false, ended: false };
    bodies.push(sent);
    let ctrl: ReadableStreamDefaultController;
    return new ReadableStream<Uint8Array>({
      start: (c) => void open.add(ctrl = c),
      async pull(c) {
        for (;;) {
          const next = it.next();
          if (next.done) {
            sent.ended = true;
            open.delete(c);
            return c.close();
          }
          const piece = next.value;
          if (piece === HOLD) return await new Promise<void>(() => {}); // settled by close() or cancel
          if (typeof piece === "number") {
            await new Promise((r) => setTimeout(r, piece));
            continue;
          }
          sent.bytes += piece.byteLength;
          return c.enqueue(piece);
        }
      },
      cancel() {
        sent.cancelled = true;
        open.delete(ctrl);
      },
    }, { highWaterMark: 0 });
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    requests.push(body);
    return answer(body, stream);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    bodies,
    async close() {
      // A held body the gateway did not cut would keep the graceful shutdown waiting.
      for (const c of open) c.error(new Error("test over"));
      await server.shutdown();
    },
  };
}

/** Runs `fn` with an upstream and a gateway for `yaml(upstream url)`, both closed after. */
async function withUpstream(
  answer: Answer,
  yaml: (url: string) => string,
  fn: (gw: TestGateway, up: Upstream) => Promise<void>,
): Promise<void> {
  const up = startUpstream(answer);
  try {
    const gw = startGateway(yaml(up.url));
    try {
      await fn(gw, up);
    } finally {
      await gw.close();
    }
  } finally {
    await up.close();
  }
}

const JSON_HEADERS = { "content-type": "application/json" };

/** An OpenAI chat completion as text, split around its `content` (which the caller supplies). */
function completionParts(model: string): [string, string] {
  return [
    '{"id":"chatcmpl-1","object":"chat.completion","created":0,"choices":[{"index":0,"message":{"role":"assistant","content":"',
    `"},"finish_reason":"stop"}],"model":${
      JSON.stringify(model)
    },"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}`,
  ];
}

/** An Ollama `/api/chat` answer as text, split around its `message.content`. */
function ollamaParts(model: string): [string, string] {
  return [
    `{"model":${
      JSON.stringify(model)
    },"created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"`,
    '"},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":5}',
  ];
}

/** `head`, `size` bytes of "x" (in 256 KiB pieces), `tail`. */
function* padded([head, tail]: [string, string], size: number): Generator<Piece> {
  yield enc.encode(head);
  for (let left = size; left > 0; left -= FILL.byteLength) {
    yield left >= FILL.byteLength ? FILL : FILL.subarray(0, left);
  }
  yield enc.encode(tail);
}

/** `text` in `n` pieces with `gapMs` between them. */
function* dripped(text: string, n: number, gapMs: number): Generator<Piece> {
  const bytes = enc.encode(text);
  const step = Math.ceil(bytes.byteLength / n);
  for (let at = 0; at < bytes.byteLength; at += step) {
    if (at > 0) yield gapMs;
    yield bytes.subarray(at, at + step);
  }
}

/**
 * Reads a body of `head` + x × `size` + `tail` piece by piece (never held whole) and checks it
 * byte for byte; the tail must be one of `tails`.
 */
async function assertPadded(res: Response, head: string, size: number, tails: string[]): Promise<void> {
  const h = enc.encode(head);
  let at = 0;
  let last = new Uint8Array(0);
  for await (const chunk of res.body!) {
    for (let i = 0; i < chunk.byteLength; i++, at++) {
      const byte = chunk[i];
      if (at < h.byteLength) {
        if (byte !== h[at]) {
          assert.fail(`byte ${at} differs in the head: ${dec.decode(chunk.subarray(0, 200))}`);
        }
      } else if (at < h.byteLength + size) {
        if (byte !== X) assert.fail(`byte ${at} is not the padding`);
      }
    }
    // The tail is short: keep the last few KiB seen.
    const joined = new Uint8Array(last.byteLength + chunk.byteLength);
    joined.set(last);
    joined.set(chunk, last.byteLength);
    last = joined.subarray(Math.max(0, joined.byteLength - 4096));
  }
  assert.ok(at >= h.byteLength + size, `only ${at} bytes of ${h.byteLength + size}+ arrived`);
  const rest = dec.decode(last.subarray(last.byteLength - (at - h.byteLength - size)));
  assert.ok(tails.includes(rest), `unexpected tail: ${rest}`);
}

/** One chat instance `m` (OpenAI adapter unless `instance` says more), health checks off. */
const chatYaml = (instance: string, policy = "") => (url: string) => `
model:
  health-check: { enabled: false }
${policy}
  services:
    chat:
      instances:
        - { name: m, base-url: "${url}"${instance} }
`;

/** A gateway that hangs fails the test instead of holding it. */
const CLIENT_TIMEOUT_MS = 10_000;

/** An Anthropic Messages request (the gateway translates it to OpenAI chat and back). */
function postMessages(gw: TestGateway, text: string): Promise<Response> {
  return fetch(`${gw.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "m", max_tokens: 16, messages: [{ role: "user", content: text }] }),
    signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
  });
}

/** An OpenAI chat request. */
function postChat(gw: TestGateway, text: string, model = "m"): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: JSON_HEADERS,
    body: JSON.stringify({ model, messages: [{ role: "user", content: text }] }),
    signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
  });
}

/** The text of the last user message of an upstream request (OpenAI or Ollama chat). */
function prompt(body: Record<string, unknown>): string {
  const messages = body.messages as { content: unknown }[];
  const content = messages.at(-1)!.content;
  return typeof content === "string" ? content : JSON.stringify(content);
}

const TOO_LARGE = /upstream answer is over 32 MiB, too large to rewrite/;

Deno.test("an answer translated for an Anthropic client that is over 32 MiB is a 502 in Anthropic's shape; the upstream is let go, nothing stays in flight, the next request is served", async () => {
  const [head, tail] = completionParts("m");
  await withUpstream(
    (body, stream) => {
      // No declared length, and an end far beyond the cap and any socket buffer: the gateway
      // must stop past 32 MiB, not wait for the end (a well-formed answer, should it get there).
      const size = prompt(body) === "big" ? 160 * MIB : 2;
      return new Response(stream(padded([head, tail], size)), { headers: JSON_HEADERS });
    },
    chatYaml(""),
    async (gw, up) => {
      const res = await postMessages(gw, "big");
      assert.equal(res.status, 502);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      const error = await res.json();
      assert.equal(error.type, "error", JSON.stringify(error));
      assert.equal(error.error.type, "api_error");
      assert.match(error.error.message, TOO_LARGE);
      await eventually(() => up.bodies[0].cancelled, "the upstream's body is cancelled");
      const sent = up.bodies[0].bytes;
      assert.ok(sent > 32 * MIB && sent < 100 * MIB, `the upstream sent ${sent} bytes before it was let go`);
      await eventually(() => gw.gateway.inFlight() === 0, "nothing in flight");
      assert.equal(up.requests.length, 1, "one instance, one attempt");

      const ok = await postMessages(gw, "small");
      assert.equal(ok.status, 200);
      const message = await ok.json();
      assert.equal(message.type, "message");
      assert.deepEqual(message.content, [{ type: "text", text: "xx" }]);
      assert.equal(gw.gateway.inFlight(), 0);
    },
  );
});

Deno.test("an answer an adapter rewrites (Ollama's /api/chat), declared 33 MiB long, is a 502 in OpenAI's shape; the next request is served", async () => {
  const [head, tail] = ollamaParts("llama3:8b");
  await withUpstream(
    (body, stream) => {
      const size = prompt(body) === "big" ? 33 * MIB : 2;
      const length = enc.encode(head).byteLength + size + enc.encode(tail).byteLength;
      // Declared, but over the 8 MiB read in one go: read piece by piece, up to the cap.
      return new Response(stream(padded([head, tail], size)), {
        headers: { ...JSON_HEADERS, "content-length": String(length) },
      });
    },
    chatYaml(', adapter: ollama, path: /api/chat, upstream-model: "llama3:8b"'),
    async (gw, up) => {
      const res = await postChat(gw, "big");
      assert.equal(res.status, 502);
      const { error } = await res.json();
      assert.equal(error.type, "upstream_error", JSON.stringify(error));
      assert.match(error.message, TOO_LARGE);
      // The last MiB may fit in the socket buffers (then the upstream sees no cancel).
      await eventually(() => up.bodies[0].cancelled || up.bodies[0].ended, "the upstream's body is done");
      await eventually(() => gw.gateway.inFlight() === 0, "nothing in flight");

      const ok = await postChat(gw, "small");
      assert.equal(ok.status, 200);
      const answer = await ok.json();
      assert.equal(answer.object, "chat.completion");
      assert.equal(answer.model, "m");
      assert.equal(answer.choices[0].message.content, "xx");
      assert.equal(gw.gateway.inFlight(), 0);
    },
  );
});

Deno.test("an answer over 32 MiB that is not rewritten whole flows to the client complete: plain, and renamed (upstream-model) to the public name in its model field", async () => {
  const size = 40 * MIB;
  for (const [instance, upstreamModel] of [["", "m"], [", upstream-model: Org/Big-Model", "Org/Big-Model"]]) {
    const [head, tail] = completionParts(upstreamModel);
    await withUpstream(
      (_, stream) => new Response(stream(padded([head, tail], size)), { headers: JSON_HEADERS }),
      chatYaml(instance),
      async (gw, up) => {
        const res = await postChat(gw, "big");
        assert.equal(res.status, 200, upstreamModel);
        // A rename alone is no reason to read an answer whole (`Reply.whole` is false): it is
        // relayed and renamed on the bytes as they pass, holding no line, so this 40 MiB one-line
        // answer reaches the client with the public name in `model` (after the content, as OpenAI
        // and TEI put it) — never the backend's.
        await assertPadded(res, head, size, [completionParts("m")[1]]);
        assert.equal(up.bodies[0].ended, true);
        await eventually(() => gw.gateway.inFlight() === 0, "nothing in flight");
      },
    );
  }
});

const IDLE_MS = 400;
const IDLE = `  timeouts: { idle: ${IDLE_MS} }`;

/** The two reasons to read an answer whole: a client dialect's translation, an adapter's `mapJson`. */
const WHOLE_READERS = [
  {
    what: "an Anthropic client's answer (translated from OpenAI)",
    instance: "",
    answer: (content: string) => completionParts("m").join(content),
    ask: postMessages,
    content: async (res: Response) => (await res.json()).content[0].text,
    timeoutError: (body: { type: string; error: { type: string; message: string } }) => {
      assert.equal(body.type, "error");
      assert.equal(body.error.type, "timeout_error");
      return body.error.message;
    },
  },
  {
    what: "an OpenAI client's answer from Ollama's /api/chat (the adapter's mapJson)",
    instance: ', adapter: ollama, path: /api/chat, upstream-model: "llama3:8b"',
    answer: (content: string) => ollamaParts("llama3:8b").join(content),
    ask: postChat,
    content: async (res: Response) => (await res.json()).choices[0].message.content,
    timeoutError: (body: { error: { type: string; code: string; message: string } }) => {
      assert.equal(body.error.code, "upstream_timeout");
      return body.error.message;
    },
  },
];

for (const r of WHOLE_READERS) {
  Deno.test(`${r.what}, read whole in many small pieces each within idle but longer in all, is served whole`, async () => {
    const text = "slow but steady, every piece in time";
    await withUpstream(
      // 12 pieces, 100 ms apart: over 1 s in all, with `idle` at 400 ms.
      (_, stream) => new Response(stream(dripped(r.answer(text), 12, 100)), { headers: JSON_HEADERS }),
      chatYaml(r.instance, IDLE),
      async (gw, up) => {
        const t0 = performance.now();
        const res = await r.ask(gw, "hi");
        const ms = performance.now() - t0;
        assert.equal(res.status, 200);
        assert.equal(await r.content(res), text);
        assert.ok(ms > IDLE_MS, `answered after ${Math.round(ms)} ms: the pieces took longer than idle`);
        assert.equal(up.bodies[0].ended, true);
        await eventually(() => gw.gateway.inFlight() === 0, "nothing in flight");
      },
    );
  });

  Deno.test(`${r.what} that stops mid-body (connection open) is a 504 after idle, not a hang`, async () => {
    await withUpstream(
      (_, stream) => {
        const half = r.answer("never finished").slice(0, 60);
        // Three pieces 100 ms apart, then silence on an open connection.
        return new Response(stream([...dripped(half, 3, 100), HOLD]), { headers: JSON_HEADERS });
      },
      chatYaml(r.instance, IDLE),
      async (gw, up) => {
        const t0 = performance.now();
        const res = await r.ask(gw, "hi");
        const ms = performance.now() - t0;
        assert.equal(res.status, 504);
        assert.match(r.timeoutError(await res.json()), /upstream idle timeout/);
        // The deadline moved with the first pieces (200 ms of them), then passed `idle` later.
        assert.ok(ms >= 200 + IDLE_MS - 50, `answered after ${Math.round(ms)} ms, before the idle time`);
        assert.ok(ms < 5000, `answered after ${Math.round(ms)} ms`);
        await eventually(() => up.bodies[0].cancelled, "the upstream's body is cancelled");
        await eventually(() => gw.gateway.inFlight() === 0, "nothing in flight");
      },
    );
  });
}

Deno.test("the cache fallback keeps a small answer and serves it when the instance fails; an answer over 1 MiB reaches the client whole but is not kept", async () => {
  const small = JSON.stringify({
    id: "chatcmpl-small",
    object: "chat.completion",
    created: 0,
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: "kept" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  });
  const [head, tail] = completionParts("m");
  const size = 2 * MIB;
  const bigSized = head + "x".repeat(size) + tail;
  let failing = false;
  await withUpstream(
    (body, stream) => {
      if (failing) return Response.json({ error: { message: "engine down" } }, { status: 500 });
      switch (prompt(body)) {
        case "small":
          return new Response(small, { headers: JSON_HEADERS });
        case "big sized": // read in one go by the attempt (declared, under 8 MiB)
          return new Response(bigSized, { headers: JSON_HEADERS });
        default: // relayed piece by piece
          return new Response(stream(padded([head, tail], size)), { headers: JSON_HEADERS });
      }
    },
    chatYaml("", "  fallback: { strategy: cache }"),
    async (gw, up) => {
      const first = await postChat(gw, "small");
      assert.equal(first.status, 200);
      assert.equal(first.headers.get("x-dairouter-fallback"), null);
      assert.equal(await first.text(), small);
      for (const big of ["big sized", "big chunked"]) {
        const res = await postChat(gw, big);
        assert.equal(res.status, 200, big);
        assert.equal(res.headers.get("x-dairouter-fallback"), null);
        await assertPadded(res, head, size, [tail]);
      }

      failing = true;
      const cached = await postChat(gw, "small");
      assert.equal(cached.status, 200);
      assert.equal(cached.headers.get("x-dairouter-fallback"), "cache");
      assert.match(cached.headers.get("content-type") ?? "", /^application\/json/);
      assert.equal(await cached.text(), small);
      for (const big of ["big sized", "big chunked"]) {
        const res = await postChat(gw, big);
        assert.equal(res.headers.get("x-dairouter-fallback"), null, `${big}: not from the cache`);
        assert.equal(res.status, 502, big);
        const { error } = await res.json();
        assert.match(error.message, /upstream answered 500/);
      }
      assert.equal(up.requests.length, 6, "every request went upstream first");
      const fallbacks = gw.logs.map((l) => JSON.parse(l)).filter((l) => l.fallback === "cache");
      assert.equal(fallbacks.length, 1, "one answer came from the cache");
      await eventually(() => gw.gateway.inFlight() === 0, "nothing in flight");
    },
  );
});

Deno.test("with the cache fallback, a JSON answer whose upstream socket closes mid-body while it is read for the cache is cut for the client (not a 500), with one access line; the next request is served", async () => {
  // Declared 16 MiB (over the 8 MiB read in one go by the attempt): committed at its first bytes,
  // then read for the cache, where the socket's end, 16 MiB early, is found.
  const cut = startCutUpstream(() => ({
    type: "application/json",
    body: '{"id":"chatcmpl-cut","object":"chat.completion","choices":[',
    length: 16 * MIB,
    cutAtOnce: true,
  }));
  const up = startFakeUpstream({ name: "N" });
  const gw = startGateway(`
model:
  health-check: { enabled: false }
  fallback: { strategy: cache }
  services:
    chat:
      instances:
        - { name: m, base-url: "${cut.url}" }
        - { name: n, base-url: "${up.url}" }
`);
  const access = () => gw.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === "access");
  try {
    const res = await postChat(gw, "cut");
    assert.equal(res.status, 200, "the upstream's status, as without the cache: not a 500");
    await assert.rejects(res.text(), "the client's read of the body fails");
    await eventually(() => access().length > 0, "the access line of the cut answer");
    await eventually(() => gw.gateway.inFlight() === 0, "nothing in flight");

    const next = await postChat(gw, "after", "n");
    assert.equal(next.status, 200);
    assert.match((await next.json()).choices[0].message.content, /^N: /);
    await eventually(() => access().some((l) => l.model === "n"), "the next request's access line");
    const lines = access();
    assert.deepEqual(lines.map((l) => [l.model, l.status]), [["m", 200], ["n", 200]], "one line each");
    assert.equal(lines[0].error, "upstream_body");
    assert.equal(cut.paths.length, 1, "a cut after the commit is not retried");
  } finally {
    await gw.close();
    await up.close();
    await cut.close();
  }
});
