/**
 * Endpoints a service serves beside its main route: audio translations (speech in any language
 * to English text) on the speech-to-text instances, image variations on the image-editing ones,
 * moderations on the chat ones (a guard model answers them). Few backends have them, so an
 * adapter serves one only where it names the backend's path (checked in each backend's source);
 * every other backend refuses it with a 400 that says so. Bodies are forwarded untouched.
 *
 * Where the backends stand (sources read for this): vLLM serves `/v1/audio/translations`
 * (`vllm/entrypoints/openai/speech_to_text/api_router.py`); Xinference `/v1/audio/translations`
 * and `/v1/images/variations` (`xinference/api/routers/audio.py`, `images.py`); LocalAI
 * `/v1/moderations`, answered by a completion model (`core/http/routes/openai.go`); GPUStack
 * routes all three to its workers, under `/v1` only (`gpustack/gateway/utils.py`). Ollama,
 * llama.cpp, TEI, Triton and Infinity have none of them.
 *
 * @module
 */

import { BadRequestError } from "../errors.ts";
import type { ServiceKind } from "../types.ts";

/** An endpoint beside a service's main route. */
export interface ExtraRoute {
  readonly service: ServiceKind;
  /** For messages: "audio translations". */
  readonly label: string;
  /** The end of the main route's path, and what replaces it for this one (`/chat/completions` → `/moderations`). */
  readonly from: string;
  readonly to: string;
}

/** The extra endpoints, by the OpenAI path clients call. */
export const EXTRA_ROUTES: Readonly<Record<string, ExtraRoute>> = Object.freeze({
  "/v1/audio/translations": {
    service: "stt",
    label: "audio translations",
    from: "/audio/transcriptions",
    to: "/audio/translations",
  },
  "/v1/images/variations": {
    service: "imgEdit",
    label: "image variations",
    from: "/images/edits",
    to: "/images/variations",
  },
  "/v1/moderations": { service: "chat", label: "moderations", from: "/chat/completions", to: "/moderations" },
});

/** The OpenAI paths of the extra endpoints (what the generic `openai` adapter sends to). */
export const OPENAI_EXTRA_PATHS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.keys(EXTRA_ROUTES).map((route) => [route, route])),
);

/**
 * The upstream path of extra endpoint `route` for a backend whose adapter serves it at
 * `ownPath` (absent: it does not), on an instance whose configured `path` (for the main route)
 * is `configured`. Throws a 400 when the backend lacks the endpoint, or when the configured
 * path does not end like the main route's, so this one cannot be derived from it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extraPath } from "./extra_routes.ts";
 * assert.equal(extraPath("/v1/moderations", "/v1/moderations", undefined, "LocalAI"), "/v1/moderations");
 * assert.equal(extraPath("/v1/moderations", "/v1/moderations", "/gw/v1/chat/completions", "LocalAI"), "/gw/v1/moderations");
 * assert.throws(() => extraPath("/v1/moderations", undefined, undefined, "vLLM"), /does not serve moderations/);
 * ```
 */
export function extraPath(
  route: string,
  ownPath: string | undefined,
  configured: string | undefined,
  label: string,
): string {
  const extra = EXTRA_ROUTES[route];
  if (ownPath === undefined) {
    throw new BadRequestError(
      `The ${label} backend does not serve ${extra.label}.`,
      "unsupported_by_backend",
    );
  }
  if (configured === undefined || configured === "") return ownPath;
  const clean = configured.replace(/\/+$/, "");
  if (!clean.endsWith(extra.from)) {
    throw new BadRequestError(
      `The instance's path "${configured}" does not end in "${extra.from}", so the path of its ` +
        `${extra.label} cannot be derived from it.`,
      "unsupported_by_backend",
    );
  }
  return `${clean.slice(0, -extra.from.length)}${extra.to}`;
}

/** Whether `route` is an extra endpoint. */
export function isExtraRoute(route: string): boolean {
  return Object.hasOwn(EXTRA_ROUTES, route);
}
