/**
 * The contract every dialect passes (like `adapters/_testing.ts` and Hono's router case suite):
 * golden request/response/stream fixtures, errors in the dialect's shape, and a stream translator
 * that gives the same bytes however the upstream is cut, never holds back a complete event,
 * handles `[DONE]`, the usage chunk, an upstream error event, a broken connection and an empty
 * stream. Plus helpers for the SDK tests: a loopback server that answers as the gateway will.
 *
 * @module
 */

import assert from "node:assert/strict";
import { translatorStream } from "./sse_reader.ts";
import type { Dialect, DialectEnv, StreamTranslator } from "./types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A deterministic environment: a fixed clock and a fixed id. */
export const TEST_ENV: DialectEnv = {
  clock: () => 1764979200000,
  randomId: () => "01XFDUDYJgAACzvnptvVoYEL",
};

/** Reads `testdata/<path>` as bytes. */
export function fixtureBytes(path: string): Uint8Array {
  return Deno.readFileSync(new URL(`./testdata/${path}`, import.meta.url));
}

/** Reads `testdata/<path>` as text. */
export function fixtureText(path: string): string {
  return decoder.decode(fixtureBytes(path));
}

/** Reads and parses `testdata/<path>`. */
export function fixtureJson(path: string): unknown {
  return JSON.parse(fixtureText(path));
}

/** Runs `text` through a translator cut into pieces of `size` bytes (1 = byte by byte). */
export function runSplit(t: StreamTranslator, text: string | Uint8Array, size = Infinity): string {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  const step = Number.isFinite(size) ? size : Math.max(bytes.length, 1);
  let out = "";
  const dec = new TextDecoder();
  for (let i = 0; i < bytes.length; i += step) {
    const piece = t.push(bytes.slice(i, i + step));
    if (piece) out += dec.decode(piece, { stream: true });
  }
  const tail = t.end();
  if (tail) out += dec.decode(tail, { stream: true });
  return out + dec.decode();
}

/** The events of an SSE text, each with its trailing blank line. */
export function sseEvents(text: string): string[] {
  return text.split("\n\n").filter((e) => e !== "").map((e) => `${e}\n\n`);
}

/** What a dialect's contract run needs besides the dialect itself. */
export interface DialectCase<C> {
  readonly dialect: Dialect<C>;
  /** Request fixtures and the OpenAI body each must become (paths under testdata/). */
  readonly requests: readonly { readonly request: string; readonly openai: string }[];
  /** The request fixture whose ctx the response and stream goldens were made with. */
  readonly ctxRequest: string;
  /** OpenAI JSON fixture → expected dialect answer. */
  readonly responses: Readonly<Record<string, string>>;
  /** OpenAI stream fixture → expected dialect stream. */
  readonly streams: Readonly<Record<string, string>>;
  /** False for endpoints that never stream (embeddings): the stream checks are skipped. */
  readonly streaming?: boolean;
  /** The smallest valid request. */
  readonly minimal: Record<string, unknown>;
  /** True when `output` ends with the dialect's error event. */
  endsWithError(output: string): boolean;
  /** True when `output` is a complete answer (the dialect's final event is last). */
  isComplete(output: string): boolean;
  /** The message of an error body, asserting the dialect's error shape. */
  errorMessage(body: unknown, status: number): string;
}

function ctxOf<C>(c: DialectCase<C>): C {
  const parsed = c.dialect.parseRequest(fixtureBytes(c.ctxRequest), TEST_ENV);
  assert(parsed.ok, `ctx request ${c.ctxRequest} must parse: ${JSON.stringify(parsed)}`);
  return parsed.ctx;
}

function requestTests<C>(c: DialectCase<C>): void {
  const d = c.dialect;
  for (const { request, openai } of c.requests) {
    Deno.test(`${d.route}: parseRequest() translates ${request} to ${openai}`, () => {
      const parsed = d.parseRequest(fixtureBytes(request), TEST_ENV);
      assert(parsed.ok, JSON.stringify(parsed));
      assert.deepEqual(parsed.body, fixtureJson(openai));
      assert.equal(parsed.model, (fixtureJson(request) as { model: string }).model);
      assert.equal(parsed.route, d.upstreamRoute);
    });
  }
  const bad: [string, string | Uint8Array, RegExp][] = [
    ["malformed JSON", "{", /not valid JSON/],
    ["a JSON array", "[]", /JSON object/],
    ["no model", JSON.stringify({ ...c.minimal, model: undefined }), /"model" is required/],
    [
      "an unknown field",
      JSON.stringify({ ...c.minimal, x_unknown_knob: 1 }),
      /"x_unknown_knob" is not supported/,
    ],
  ];
  for (const [what, body, message] of bad) {
    Deno.test(`${d.route}: parseRequest() answers ${what} with a 400 in the dialect's shape`, () => {
      const parsed = d.parseRequest(typeof body === "string" ? encoder.encode(body) : body, TEST_ENV);
      assert(!parsed.ok);
      assert.equal(parsed.status, 400);
      assert.match(parsed.message, message);
      assert.equal(c.errorMessage(d.errorBody(400, parsed.message), 400), parsed.message);
    });
  }
  Deno.test(`${d.route}: parseRequest() accepts the minimal request`, () => {
    const parsed = d.parseRequest(encoder.encode(JSON.stringify(c.minimal)), TEST_ENV);
    assert(parsed.ok, JSON.stringify(parsed));
  });
  Deno.test(`${d.route}: errorBody() has the dialect's shape for every gateway status`, () => {
    for (const status of [400, 401, 403, 404, 413, 415, 429, 500, 502, 503, 504]) {
      assert.equal(c.errorMessage(d.errorBody(status, `m${status}`), status), `m${status}`);
    }
  });
}

function responseTests<C>(c: DialectCase<C>): void {
  const d = c.dialect;
  for (const [upstream, expected] of Object.entries(c.responses)) {
    Deno.test(`${d.route}: toResponse() of ${upstream} equals ${expected}`, () => {
      assert.deepEqual(d.toResponse(fixtureJson(upstream), ctxOf(c)), fixtureJson(expected));
    });
  }
}

function streamGoldenTests<C>(c: DialectCase<C>): void {
  const d = c.dialect;
  for (const [upstream, expected] of Object.entries(c.streams)) {
    Deno.test(`${d.route}: the stream of ${upstream} equals ${expected}, however the bytes are cut`, () => {
      const ctx = ctxOf(c);
      const bytes = fixtureBytes(upstream);
      const whole = runSplit(d.streamTransformer(ctx), bytes);
      assert.equal(whole, fixtureText(expected));
      for (const size of [1, 2, 3, 5, 7, 13, 64]) {
        assert.equal(
          runSplit(d.streamTransformer(ctx), bytes, size),
          whole,
          `split into ${size}-byte chunks`,
        );
      }
      const crlf = `: keep-alive\r\n\r\n${decoder.decode(bytes).replaceAll("\n", "\r\n")}`;
      assert.equal(runSplit(d.streamTransformer(ctx), crlf, 5), whole, "CRLF line ends and comments");
    });
  }
}

/** Pushes the events of `text` one at a time, returning the output after each. */
function eventByEvent(t: StreamTranslator, text: string): string[] {
  let out = "";
  return sseEvents(text).map((e) => {
    const piece = t.push(encoder.encode(e));
    if (piece) out += decoder.decode(piece);
    return out;
  });
}

function streamEdgeTests<C>(c: DialectCase<C>): void {
  const d = c.dialect;
  const text = fixtureText("openai/stream_text.sse");
  Deno.test(`${d.route}: the stream never holds back a complete event`, () => {
    const outs = eventByEvent(d.streamTransformer(ctxOf(c)), text);
    sseEvents(text).forEach((e, k) => {
      const m = /"content":("(?:[^"\\]|\\.)+")/.exec(e);
      if (m) {
        assert(outs[k].includes(JSON.stringify(JSON.parse(m[1])).slice(1, -1)), `event ${k} is out at once`);
      }
    });
    // The usage chunk after the finish completes the answer before [DONE] arrives.
    assert(c.isComplete(outs[outs.length - 2]), "complete once the usage chunk is in");
  });
  Deno.test(`${d.route}: usage carried on the finish chunk completes the answer at once`, () => {
    const outs = eventByEvent(d.streamTransformer(ctxOf(c)), fixtureText("openai/stream_length.sse"));
    assert(c.isComplete(outs[1]));
  });
  Deno.test(`${d.route}: [DONE] completes an answer that had no usage chunk`, () => {
    const noUsage = sseEvents(text).filter((e) => !e.includes('"usage"')).join("");
    const out = runSplit(d.streamTransformer(ctxOf(c)), noUsage);
    assert(c.isComplete(out) && !c.endsWithError(out), out);
  });
  Deno.test(`${d.route}: an upstream that closes after its finish reason (no [DONE]) still completes`, () => {
    const cut = sseEvents(text).filter((e) => !e.includes("[DONE]") && !e.includes('"usage"')).join("");
    assert(c.isComplete(runSplit(d.streamTransformer(ctxOf(c)), cut)));
  });
  Deno.test(`${d.route}: an upstream that closes before its finish reason ends with an error event`, () => {
    const cut = sseEvents(text).slice(0, 3).join("");
    const out = runSplit(d.streamTransformer(ctxOf(c)), cut);
    assert(c.endsWithError(out) && !c.isComplete(out), out);
  });
  Deno.test(`${d.route}: an upstream error event ends the stream with the dialect's error event`, () => {
    const t = d.streamTransformer(ctxOf(c));
    const out = runSplit(t, fixtureText("openai/stream_error.sse"));
    assert(c.endsWithError(out) && out.includes("The upstream stream broke after its first chunk."), out);
    assert.equal(t.push(encoder.encode(text)), undefined, "nothing after the error");
  });
  Deno.test(`${d.route}: a broken connection (fail) ends the stream with the dialect's error event`, () => {
    const t = d.streamTransformer(ctxOf(c));
    t.push(encoder.encode(sseEvents(text).slice(0, 2).join("")));
    const out = decoder.decode(t.fail("connection reset"));
    assert(c.endsWithError(out) && out.includes("connection reset"), out);
    assert.equal(t.push(encoder.encode(text)), undefined);
    assert.equal(t.end(), undefined);
  });
  Deno.test(`${d.route}: an empty upstream stream is an error, a bare [DONE] an empty answer`, () => {
    assert(c.endsWithError(runSplit(d.streamTransformer(ctxOf(c)), "")));
    const empty = runSplit(d.streamTransformer(ctxOf(c)), "data: [DONE]\n\n");
    assert(c.isComplete(empty) && !c.endsWithError(empty), empty);
  });
  Deno.test(`${d.route}: a stream event that is not JSON ends the stream with an error event`, () => {
    assert(c.endsWithError(runSplit(d.streamTransformer(ctxOf(c)), "data: {oops\n\n")));
  });
}

/** Registers the whole contract for one dialect endpoint. */
export function dialectContract<C>(c: DialectCase<C>): void {
  requestTests(c);
  responseTests(c);
  if (c.streaming === false) return;
  streamGoldenTests(c);
  streamEdgeTests(c);
}

/** A loopback server on port 0; `handler` answers as the gateway will. Close it when done. */
export function loopback(handler: (req: Request) => Response | Promise<Response>): {
  url: string;
  close: () => Promise<void>;
} {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

/** A body that delivers `bytes` in pieces of `size` bytes, as a slow upstream would. */
export function pieces(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(i, i + size));
      i += size;
    },
  });
}

/**
 * Answers a client request as the gateway will: parse it (a failure gets the dialect's error
 * body), then translate the upstream fixture `openai/chat_<scenario>.json` (or `json`, when
 * given) or stream `openai/stream_<scenario>.sse` in 7-byte pieces through the translator.
 * `pick` names the scenario from the translated OpenAI body.
 */
export async function answerAs<C>(
  dialect: Dialect<C>,
  req: Request,
  pick: (body: Record<string, unknown>) => string,
  json?: string,
): Promise<Response> {
  const parsed = dialect.parseRequest(new Uint8Array(await req.arrayBuffer()), TEST_ENV);
  if (!parsed.ok) {
    return Response.json(dialect.errorBody(parsed.status, parsed.message, parsed.param), {
      status: parsed.status,
    });
  }
  const scenario = pick(parsed.body);
  if (!parsed.stream) {
    return Response.json(dialect.toResponse(fixtureJson(json ?? `openai/chat_${scenario}.json`), parsed.ctx));
  }
  const body = pieces(fixtureBytes(`openai/stream_${scenario}.sse`), 7)
    .pipeThrough(translatorStream(dialect.streamTransformer(parsed.ctx)));
  return new Response(body, { headers: { "content-type": dialect.streamContentType } });
}

/** The upstream scenarios the SDK tests ask for by name: `openai/<scenario>.json` or `stream_<scenario>.sse`. */
export const SCENARIOS: readonly string[] = [
  "text",
  "tools",
  "tools_interleaved",
  "tools_same_index",
  "tools_text_between",
  "error",
  "length",
  "reasoning",
];

/**
 * The two parallel calls every `tools*` stream fixture carries (`[id, name, arguments]`), however
 * the fixture streams them: one after the other, interleaved, all numbered 0, text between.
 */
export const PARALLEL_CALLS: readonly [string, string, unknown][] = [
  ["call_weather1", "get_weather", { city: "Paris" }],
  ["call_time2", "get_time", { tz: "Europe/Paris" }],
];

/** The text of the last chat message of an OpenAI body, when it names a known scenario. */
export function lastSaid(body: Record<string, unknown>, known: readonly string[], fallback = "text"): string {
  const messages = body.messages as { content: unknown }[] | undefined;
  const said = messages ? String(messages[messages.length - 1].content) : "";
  return known.includes(said) ? said : fallback;
}

/** `parse`, `body` and `refused` helpers for one dialect, merging each case into `base`. */
export function requestChecks<C>(dialect: Dialect<C>, base: Record<string, unknown>) {
  const parse = (extra: Record<string, unknown>) =>
    dialect.parseRequest(encoder.encode(JSON.stringify({ ...base, ...extra })), TEST_ENV);
  return {
    parse,
    /** The translated body, failing the test on a refusal. */
    body(extra: Record<string, unknown>): Record<string, unknown> {
      const p = parse(extra);
      assert(p.ok, JSON.stringify(p));
      return p.body;
    },
    /** Asserts a 400 whose message matches (and whose param is `param`, when given). */
    refused(extra: Record<string, unknown>, message: RegExp, param?: string): void {
      const p = parse(extra);
      assert(!p.ok, `expected a refusal for ${JSON.stringify(extra)}`);
      assert.equal(p.status, 400);
      assert.match(p.message, message);
      if (param) assert.equal(p.param, param);
    },
  };
}
