/**
 * Backend adapters: translate an OpenAI request into a backend's dialect (path, auth, body) and
 * its answer back. A static registry: `getAdapter(name)` never loads code at run time.
 *
 * Contract for the proxy: send `method`/`url`/`headers`/`body` as given; on a successful answer
 * apply `mapJson` (parsed JSON in, JSON out) when set and the answer is JSON, and pipe a streamed
 * answer through a fresh `mapStream()` when set, announcing `streamContentType`. Without a
 * mapper, bytes pass through untouched.
 *
 * @module
 */

import type { Adapter, AdapterName } from "../types.ts";
import { ADAPTER_NAMES as NAMES } from "../types.ts";
import { gpustackAdapter } from "./gpustack.ts";
import { infinityAdapter } from "./infinity.ts";
import { llamacppAdapter } from "./llamacpp.ts";
import { localaiAdapter } from "./localai.ts";
import { ollamaAdapter } from "./ollama.ts";
import { openaiAdapter } from "./openai.ts";
import { teiAdapter } from "./tei.ts";
import { tritonAdapter } from "./triton.ts";
import { vllmAdapter } from "./vllm.ts";
import { xinferenceAdapter } from "./xinference.ts";

export { OPENAI_PROBE_PATH, openaiAdapter } from "./openai.ts";
export { GPUSTACK_PATHS, gpustackAdapter } from "./gpustack.ts";
export { INFINITY_PATHS, infinityAdapter } from "./infinity.ts";
export { LLAMACPP_PATHS, llamacppAdapter } from "./llamacpp.ts";
export { LOCALAI_PATHS, LOCALAI_STT_FORMATS, localaiAdapter } from "./localai.ts";
export { OLLAMA_PATHS, ollamaAdapter } from "./ollama.ts";
export { TEI_PATHS, teiAdapter } from "./tei.ts";
export { TRITON_PATHS, tritonAdapter } from "./triton.ts";
export { VLLM_PATHS, VLLM_STT_FORMATS, vllmAdapter } from "./vllm.ts";
export { XINFERENCE_PATHS, XINFERENCE_STT_FORMATS, xinferenceAdapter } from "./xinference.ts";
export { COMPLETIONS_ROUTE, joinUrl, OPENAI_PATHS } from "./url.ts";
export { normaliseRerank, type RerankRequest, type RerankResponse, type RerankResult } from "./rerank.ts";
export { SSE_CONTENT_TYPE, SSE_DONE } from "./sse.ts";
export { isErrorEvent, upstreamErrorMessage } from "./upstream_error.ts";

/** Every name accepted by `adapter` in the configuration. */
export const ADAPTER_NAMES: readonly AdapterName[] = NAMES;

const REGISTRY: Readonly<Record<AdapterName, Adapter>> = Object.freeze({
  openai: openaiAdapter,
  normal: openaiAdapter,
  gpustack: gpustackAdapter,
  ollama: ollamaAdapter,
  vllm: vllmAdapter,
  xinference: xinferenceAdapter,
  localai: localaiAdapter,
  llamacpp: llamacppAdapter,
  tei: teiAdapter,
  triton: tritonAdapter,
  infinity: infinityAdapter,
});

/**
 * The adapter for a configured name (`normal` is the seed's alias of `openai`). Throws
 * `RangeError` for an unknown name; the config schema rejects those first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getAdapter } from "./mod.ts";
 * assert(getAdapter("normal") === getAdapter("openai"));
 * assert(getAdapter("ollama").name === "ollama");
 * ```
 */
export function getAdapter(name: AdapterName): Adapter {
  const adapter = Object.hasOwn(REGISTRY, name) ? REGISTRY[name] : undefined;
  if (!adapter) {
    throw new RangeError(
      `Cannot get adapter: "name" must be one of ${ADAPTER_NAMES.join(", ")}, received "${name}"`,
    );
  }
  return adapter;
}
