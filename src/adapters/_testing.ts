/**
 * Test helpers shared by the adapter tests: input builders, fixture reading, and a stream
 * runner that feeds a mapper arbitrary chunk splits.
 *
 * @module
 */

import type { AdapterInput, InstanceTarget, ServiceKind, StreamMapper, UpstreamCall } from "../types.ts";
import { HeaderList } from "../header_list.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Options of the input builders. */
export interface InputOptions {
  readonly route?: string;
  readonly target?: Partial<InstanceTarget>;
  readonly headers?: HeadersInit;
  readonly stream?: boolean;
}

function target(t: Partial<InstanceTarget> | undefined): InstanceTarget {
  return { baseUrl: "http://127.0.0.1:9000", headers: {}, ...t };
}

/**
 * A JSON request as the dispatcher hands it over.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonInput } from "./_testing.ts";
 * assert(jsonInput("chat", { model: "m" }).body.kind === "json");
 * ```
 */
export function jsonInput(
  service: ServiceKind,
  value: Record<string, unknown>,
  opts: InputOptions = {},
): AdapterInput {
  return {
    service,
    route: opts.route ?? defaultRoute(service),
    target: target(opts.target),
    body: { kind: "json", bytes: encoder.encode(JSON.stringify(value)), value },
    stream: opts.stream ?? value.stream === true,
    headers: HeaderList.from(opts.headers),
  };
}

/**
 * A multipart request with the given text fields and one small file part.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { multipartInput } from "./_testing.ts";
 * const input = multipartInput("stt", { model: "w" });
 * assert(input.body.kind === "raw");
 * ```
 */
export function multipartInput(
  service: ServiceKind,
  fields: Record<string, string>,
  opts: InputOptions = {},
): AdapterInput {
  const boundary = "----dairouter-test-boundary";
  let text = "";
  for (const [name, value] of Object.entries(fields)) {
    text += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  text += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n` +
    `Content-Type: audio/wav\r\n\r\nRIFF\x00\x01name="response_format"\r\n--${boundary}--\r\n`;
  return {
    service,
    route: opts.route ?? defaultRoute(service),
    target: target(opts.target),
    body: {
      kind: "raw",
      bytes: encoder.encode(text),
      contentType: `multipart/form-data; boundary=${boundary}`,
    },
    stream: false,
    headers: HeaderList.from(opts.headers),
  };
}

function defaultRoute(service: ServiceKind): string {
  return {
    chat: "/v1/chat/completions",
    embedding: "/v1/embeddings",
    rerank: "/v1/rerank",
    tts: "/v1/audio/speech",
    stt: "/v1/audio/transcriptions",
    imgGen: "/v1/images/generations",
    imgEdit: "/v1/images/edits",
  }[service];
}

/** Reads `testdata/<backend>/<name>` as text. */
export function fixtureText(backend: string, name: string): Promise<string> {
  return Deno.readTextFile(new URL(`./testdata/${backend}/${name}`, import.meta.url));
}

/** Reads and parses `testdata/<backend>/<name>`. */
export async function fixtureJson(backend: string, name: string): Promise<unknown> {
  return JSON.parse(await fixtureText(backend, name));
}

/** The upstream body of a call as parsed JSON (fails the test when it is not bytes). */
export function callJson(call: UpstreamCall): unknown {
  if (!(call.body instanceof Uint8Array)) throw new Error("call body is not bytes");
  return JSON.parse(decoder.decode(call.body));
}

/** Headers as a plain sorted object, for exact comparison. */
export function headersObject(headers: Iterable<[string, string]>): Record<string, string> {
  return Object.fromEntries([...new Headers(headers)].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Pushes `text` through a stream mapper cut into pieces of `size` bytes (1 = byte by byte, the
 * hardest split), and returns the output text.
 */
export async function runStream(mapper: StreamMapper, text: string, size = Infinity): Promise<string> {
  const bytes = encoder.encode(text);
  const step = Number.isFinite(size) ? size : Math.max(bytes.length, 1);
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += step) controller.enqueue(bytes.slice(i, i + step));
      controller.close();
    },
  });
  return await new Response(source.pipeThrough(mapper())).text();
}
