/**
 * A simulated OpenAI-compatible model server (test fixture and demo backend). It answers all seven
 * services with small, deterministic bodies that name the upstream — real WAV audio and PNG images
 * for the media services (`media.ts`) — records every request, and can
 * inject faults: refuse, hang, 500, 429/503 with Retry-After, delay the first byte, reset mid-stream.
 *
 * @module
 */

import { edit, generation, type MediaHost, speech, transcription } from "./media.ts";

/** Faults the fake can inject into its next responses. */
export type Fault =
  | { readonly kind: "none" }
  /** An error answer; with `after`, held until that promise resolves (a slow request that then fails). */
  | {
    readonly kind: "status";
    readonly status: number;
    readonly retryAfter?: string;
    readonly after?: Promise<unknown>;
  }
  | { readonly kind: "hang" }
  | { readonly kind: "delay"; readonly ms: number }
  | { readonly kind: "reset-mid-stream"; readonly afterChunks: number }
  | { readonly kind: "reset-before-body" }
  /** A stream that goes silent (the connection stays open) after `afterChunks` chunks. */
  | { readonly kind: "silent-mid-stream"; readonly afterChunks: number }
  /** Chat answered in the other shape: a stream when asked for a whole answer, and the reverse. */
  | { readonly kind: "wrong-shape" };

/** A request as the fake received it. */
export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

/** Options of {@linkcode startFakeUpstream}. */
export interface FakeOptions {
  readonly name: string;
  readonly port?: number;
  /** Chunks in a streamed chat answer. */
  readonly streamChunks?: number;
  /** Delay between streamed chunks (ms). */
  readonly chunkDelayMs?: number;
  /** Line end of the SSE events: `\n` (vLLM, OpenAI) or `\r\n` (sse-starlette's default). */
  readonly sseLineEnd?: "\n" | "\r\n";
}

/** A running fake. */
export interface FakeUpstream {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly requests: Recorded[];
  /** Requests whose client went away before the response ended. */
  readonly aborted: number;
  /** Streams currently open. */
  readonly openStreams: number;
  fault: Fault;
  close(): Promise<void>;
}

const enc = new TextEncoder();
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

/** Parses a multipart body (an empty form when it is not one: the handlers then say what is missing). */
function formOf(body: Uint8Array<ArrayBuffer>, contentType: string): Promise<FormData> {
  return new Response(body, { headers: { "content-type": contentType } }).formData().catch(() =>
    new FormData()
  );
}

/** Starts a fake on 127.0.0.1 (port 0 = any free port). */
export function startFakeUpstream(options: FakeOptions): FakeUpstream {
  const requests: Recorded[] = [];
  let aborted = 0;
  let openStreams = 0;
  let counter = 0;
  const chunks = options.streamChunks ?? 5;
  const chunkDelay = options.chunkDelayMs ?? 5;
  const eol = options.sseLineEnd ?? "\n";
  const name = options.name;

  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", "x-upstream-name": name },
    });

  /** A streamed body of `n` parts, honouring the reset-mid-stream fault and counting aborts. */
  const stream = (
    parts: Uint8Array[],
    contentType: string,
    signal: AbortSignal,
    resetAfter?: number,
    silentAfter?: number,
  ) => {
    openStreams++;
    let closed = false;
    const done = () => {
      if (!closed) (closed = true, openStreams--);
    };
    signal.addEventListener("abort", () => {
      if (!closed) aborted++;
      done();
    }, { once: true });
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (i > 0) await sleep(chunkDelay, signal);
        if (i === silentAfter) await sleep(1e9, signal);
        if (signal.aborted) return;
        if (resetAfter !== undefined && i >= resetAfter) {
          done();
          c.error(new Error("simulated reset"));
          return;
        }
        if (i >= parts.length) {
          done();
          c.close();
          return;
        }
        c.enqueue(parts[i++]);
      },
      cancel() {
        if (!closed) aborted++;
        done();
      },
    });
    return new Response(body, { headers: { "content-type": contentType, "x-upstream-name": name } });
  };

  const chat = (body: Record<string, unknown>, signal: AbortSignal, completions: boolean) => {
    const id = `chatcmpl-${name}-${++counter}`;
    const model = String(body.model);
    const words = Array.from({ length: chunks }, (_, i) => `w${i} `);
    if ((body.stream === true) !== (fault.kind === "wrong-shape")) {
      const usage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage;
      const events = words.map((w) =>
        completions
          ? { id, object: "text_completion", model, choices: [{ index: 0, text: w, finish_reason: null }] }
          : {
            id,
            object: "chat.completion.chunk",
            model,
            choices: [{ index: 0, delta: { content: w }, finish_reason: null }],
          }
      );
      if (usage) {
        events.push(
          {
            id,
            object: "chat.completion.chunk",
            model,
            choices: [],
            usage: { prompt_tokens: 7, completion_tokens: chunks, total_tokens: 7 + chunks },
          } as never,
        );
      }
      const parts = [
        ...events.map((e) => enc.encode(`data: ${JSON.stringify(e)}${eol}${eol}`)),
        enc.encode(`data: [DONE]${eol}${eol}`),
      ];
      const f = fault;
      return stream(
        parts,
        "text/event-stream",
        signal,
        f.kind === "reset-mid-stream" ? f.afterChunks : undefined,
        f.kind === "silent-mid-stream" ? f.afterChunks : undefined,
      );
    }
    const text = words.join("").trim();
    return json({
      id,
      object: completions ? "text_completion" : "chat.completion",
      created: 0,
      model,
      system_fingerprint: name,
      choices: [
        completions
          ? { index: 0, text, finish_reason: "stop" }
          : { index: 0, message: { role: "assistant", content: `${name}: ${text}` }, finish_reason: "stop" },
      ],
      usage: { prompt_tokens: 7, completion_tokens: chunks, total_tokens: 7 + chunks },
    });
  };

  let fault: Fault = { kind: "none" };
  const media: MediaHost = {
    name,
    parts: chunks,
    json,
    stream: (parts, contentType, signal) => stream(parts, contentType, signal),
  };

  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const body = new Uint8Array(await req.arrayBuffer());
    requests.push({ method: req.method, path: url.pathname, headers: req.headers, body });
    const f = fault;
    if (f.kind === "status") {
      await f.after;
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (f.retryAfter) headers["retry-after"] = f.retryAfter;
      return new Response(
        JSON.stringify({ error: { message: `${name} failed`, type: "server_error", code: f.status } }),
        { status: f.status, headers },
      );
    }
    if (f.kind === "hang") {
      await sleep(60_000, req.signal);
      return new Response(null, { status: 499 });
    }
    if (f.kind === "delay") await sleep(f.ms, req.signal);
    if (f.kind === "reset-before-body") return stream([], "application/json", req.signal, 0);
    const ct = req.headers.get("content-type") ?? "";
    const parsed = ct.includes("json") && body.byteLength ? JSON.parse(new TextDecoder().decode(body)) : {};
    switch (url.pathname) {
      case "/v1/chat/completions":
        return chat(parsed, req.signal, false);
      case "/v1/completions":
        return chat(parsed, req.signal, true);
      case "/v1/embeddings": {
        const inputs = Array.isArray(parsed.input) ? parsed.input : [parsed.input];
        return json({
          object: "list",
          model: parsed.model,
          data: inputs.map((_: unknown, index: number) => ({
            object: "embedding",
            index,
            embedding: [0.1, 0.2, index],
          })),
          usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
          upstream: name,
        });
      }
      case "/v1/rerank": {
        const docs: unknown[] = parsed.documents ?? [];
        const results = docs.map((d, index) => ({
          index,
          relevance_score: 1 / (index + 1),
          document: { text: typeof d === "string" ? d : (d as { text: string }).text },
        }));
        return json({
          id: `rerank-${name}`,
          model: parsed.model,
          results: results.slice(0, parsed.top_n ?? results.length),
          usage: { total_tokens: docs.length },
        });
      }
      case "/v1/audio/speech":
        return speech(media, parsed, req.signal);
      case "/v1/audio/transcriptions":
        return await transcription(media, await formOf(body, ct));
      case "/v1/images/edits":
        return await edit(media, await formOf(body, ct));
      case "/v1/images/generations":
        return generation(media, parsed);
      case "/v1/models":
        return json({ object: "list", data: [{ id: "fake", object: "model", owned_by: name }] });
      case "/health":
        return new Response("ok");
      default:
        return json({
          error: { message: `no route ${url.pathname}`, type: "invalid_request_error", code: "not_found" },
        }, 404);
    }
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: options.port ?? 0, onListen: () => {} }, handler);
  const port = server.addr.port;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get aborted() {
      return aborted;
    },
    get openStreams() {
      return openStreams;
    },
    get fault() {
      return fault;
    },
    set fault(f: Fault) {
      fault = f;
    },
    close: () => server.shutdown(),
  };
}
