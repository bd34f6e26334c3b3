/**
 * The OpenAI-compatible adapter skeleton every backend is built from: default paths per service,
 * the instance `path` override, auth, byte-for-byte forwarding, rerank normalisation, audio
 * format checks, and per-service hooks for the dialects that really differ.
 *
 * @module
 */

import type {
  Adapter,
  AdapterInput,
  AdapterName,
  InstanceTarget,
  LoadSource,
  ProbeRequest,
  ServiceKind,
  UpstreamCall,
} from "../types.ts";
import { BadRequestError } from "../errors.ts";
import { checkAudioFormat } from "./audio.ts";
import { bodyBytes, encodeJson } from "./body.ts";
import { type AuthStyle, BEARER, JSON_CONTENT_TYPE, probeHeaders, upstreamHeaders } from "./headers.ts";
import { flattenDocuments, normaliseRerank, readRerankRequest } from "./rerank.ts";
import { COMPLETIONS_ROUTE, completionsSibling, effectivePath, joinUrl } from "./url.ts";
import { extraPath, isExtraRoute } from "./extra_routes.ts";

/** Translates one service for one backend; `undefined` falls back to plain forwarding. */
export type ServiceHook = (input: AdapterInput, path: string, auth: AuthStyle) => UpstreamCall | undefined;

/** What makes one backend different from plain OpenAI. */
export interface CompatSpec {
  readonly name: AdapterName;
  /** Default upstream path per service. A service missing here is one the backend lacks. */
  readonly paths: Partial<Record<ServiceKind, string>>;
  /**
   * Default path of the `/v1/completions` route. Absent: the chat path's completions sibling;
   * `null`: the backend has no legacy completions.
   */
  readonly completionsPath?: string | null;
  /** Health probe path (GET), or one per service. */
  readonly probePath: string | ((service: ServiceKind) => string);
  /** How the backend takes its key. @default {BEARER} */
  readonly auth?: AuthStyle;
  /** `response_format` values the backend can produce; absent = anything passes. */
  readonly ttsFormats?: readonly string[];
  /** `response_format` values of transcriptions; absent = anything passes. */
  readonly sttFormats?: readonly string[];
  /**
   * Paths of the endpoints beside a service's main route that the backend serves, by OpenAI
   * route (`/v1/audio/translations`, `/v1/images/variations`, `/v1/moderations`; see
   * `extra_routes.ts`). A route missing here is one the backend lacks.
   */
  readonly extraPaths?: Readonly<Record<string, string>>;
  /** Per-service translations for dialects that differ from OpenAI. */
  readonly hooks?: Partial<Record<ServiceKind, ServiceHook>>;
  /** Human name for messages, e.g. "Ollama". */
  readonly label: string;
  /** The backend's chat accepts `stream_options.include_usage` (see `Adapter`). @default {false} */
  readonly acceptsStreamOptions?: boolean;
  /** Where the backend reports its load (`src/signals`); absent = it has no load report. */
  readonly loadSource?: LoadSource;
}

/**
 * Forwards the client's body untouched to `path` (JSON as JSON, multipart with its boundary).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forward } from "./compat.ts";
 * import { HeaderList } from "../header_list.ts";
 * const body = { kind: "json" as const, bytes: new TextEncoder().encode("{}"), value: {} };
 * const call = forward({ service: "chat", route: "/v1/chat/completions", stream: false, headers: new HeaderList(),
 *   target: { baseUrl: "http://h", headers: {} }, body }, "/v1/chat/completions");
 * assert(call.url === "http://h/v1/chat/completions" && call.body === body.bytes);
 * ```
 */
export function forward(input: AdapterInput, path: string, auth: AuthStyle = BEARER): UpstreamCall {
  const contentType = input.body.kind === "json" ? JSON_CONTENT_TYPE : input.body.contentType;
  return {
    url: joinUrl(input.target.baseUrl, path),
    method: "POST",
    headers: upstreamHeaders(input.headers, contentType, input.target, auth),
    body: bodyBytes(input.body),
  };
}

/**
 * Sends a rewritten JSON object to `path`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sendJson } from "./compat.ts";
 * import { HeaderList } from "../header_list.ts";
 * const call = sendJson({ service: "embedding", route: "/v1/embeddings", stream: false, headers: new HeaderList(),
 *   target: { baseUrl: "http://h", headers: {} }, body: { kind: "json", bytes: new Uint8Array(), value: {} } },
 *   "/embed", { inputs: "x" });
 * assert(call.headers.get("content-type") === "application/json");
 * ```
 */
export function sendJson(
  input: AdapterInput,
  path: string,
  value: unknown,
  auth: AuthStyle = BEARER,
): UpstreamCall {
  return {
    url: joinUrl(input.target.baseUrl, path),
    method: "POST",
    headers: upstreamHeaders(input.headers, JSON_CONTENT_TYPE, input.target, auth),
    body: encodeJson(value),
  };
}

/**
 * Rerank for Jina/Cohere-style servers: `{text}` documents flattened to strings when needed, the
 * answer normalised (sorted, cut to `top_n`, documents as asked).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forwardRerank } from "./compat.ts";
 * import { HeaderList } from "../header_list.ts";
 * const value = { model: "m", query: "q", documents: ["a"] };
 * const bytes = new TextEncoder().encode(JSON.stringify(value));
 * const call = forwardRerank({ service: "rerank", route: "/v1/rerank", stream: false, headers: new HeaderList(),
 *   target: { baseUrl: "http://h", headers: {} }, body: { kind: "json", bytes, value } }, "/v1/rerank");
 * assert(call.body === bytes && call.mapJson !== undefined);
 * ```
 */
export function forwardRerank(input: AdapterInput, path: string, auth: AuthStyle = BEARER): UpstreamCall {
  if (input.body.kind !== "json") return forward(input, path, auth);
  const req = readRerankRequest(input.body.value);
  const flat = flattenDocuments(input.body.value);
  const call = flat ? sendJson(input, path, flat, auth) : forward(input, path, auth);
  return { ...call, mapJson: (up) => normaliseRerank(up, req) };
}

function defaultPath(spec: CompatSpec, service: ServiceKind, route: string): string | undefined {
  if (service === "chat" && route === COMPLETIONS_ROUTE) {
    if (spec.completionsPath === null) return undefined;
    if (spec.completionsPath !== undefined) return spec.completionsPath;
    return spec.paths.chat === undefined ? undefined : completionsSibling(spec.paths.chat);
  }
  return spec.paths[service];
}

const SERVICE_LABELS: Readonly<Record<ServiceKind, string>> = {
  chat: "chat completions",
  embedding: "embeddings",
  rerank: "rerank",
  tts: "speech (TTS)",
  stt: "transcription (STT)",
  imgGen: "image generation",
  imgEdit: "image editing",
};

/**
 * Builds an adapter from a spec. A service the backend lacks is a `BadRequestError` unless the
 * instance configures an explicit `path` (then the operator knows better and we forward).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createCompatAdapter } from "./compat.ts";
 * const adapter = createCompatAdapter({ name: "openai", label: "OpenAI", paths: { chat: "/v1/chat/completions" },
 *   probePath: "/v1/models" });
 * const probe = adapter.probe("chat", { baseUrl: "http://h/", headers: {} });
 * assert(probe.url === "http://h/v1/models" && probe.method === "GET");
 * ```
 */
export function createCompatAdapter(spec: CompatSpec): Adapter {
  if (!spec.name) throw new TypeError('Cannot create adapter: "name" must be set, received ""');
  const auth = spec.auth ?? BEARER;
  const label = spec.label;
  return Object.freeze({
    name: spec.name,
    acceptsStreamOptions: spec.acceptsStreamOptions === true,
    ...(spec.loadSource ? { loadSource: Object.freeze({ ...spec.loadSource }) } : {}),
    prepare(input: AdapterInput): UpstreamCall {
      if (isExtraRoute(input.route)) {
        // Forwarded as sent: the services' hooks translate their main route's body, not these.
        const own = spec.extraPaths?.[input.route];
        const path = extraPath(input.route, own, input.target.path, label);
        if (input.service === "stt" && spec.sttFormats) {
          checkAudioFormat(input.body, spec.sttFormats, `${label} translation`);
        }
        return forward(input, path, auth);
      }
      const fallback = defaultPath(spec, input.service, input.route);
      if (fallback === undefined && !input.target.path) {
        const what = input.route === COMPLETIONS_ROUTE ? "legacy completions" : SERVICE_LABELS[input.service];
        throw new BadRequestError(`The ${label} backend does not serve ${what}.`, "unsupported_by_backend");
      }
      const path = effectivePath(input, fallback ?? "");
      if (input.service === "tts" && spec.ttsFormats) {
        checkAudioFormat(input.body, spec.ttsFormats, `${label} speech`);
      }
      if (input.service === "stt" && spec.sttFormats) {
        checkAudioFormat(input.body, spec.sttFormats, `${label} transcription`);
      }
      const hooked = spec.hooks?.[input.service]?.(input, path, auth);
      if (hooked) return hooked;
      return input.service === "rerank" ? forwardRerank(input, path, auth) : forward(input, path, auth);
    },
    probe(service: ServiceKind, target: InstanceTarget): ProbeRequest {
      const path = typeof spec.probePath === "string" ? spec.probePath : spec.probePath(service);
      return { url: joinUrl(target.baseUrl, path), method: "GET", headers: probeHeaders(target, auth) };
    },
  });
}
