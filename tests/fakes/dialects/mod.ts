/**
 * Fake model servers, one per backend dialect the adapters speak, for end-to-end tests through
 * the running gateway. Each binds 127.0.0.1 on an ephemeral port and records every request.
 *
 * @module
 */

export {
  type DialectFake,
  json,
  type RouteContext,
  type RouteHandler,
  type Seen,
  serveDialect,
} from "./server.ts";
export {
  base64Floats,
  docsOf,
  INTERLEAVE,
  PARALLEL_ARGUMENTS,
  REPLY_WORDS,
  SAME_INDEX,
  scoreOf,
  TOOL_ARGUMENTS,
  vectorOf,
} from "./shapes.ts";
export {
  assertProbe,
  assertRefused,
  assertRefusedAndProbe,
  audioFile,
  type DialectGateway,
  dialectYaml,
  DOCS,
  type ExpectedProbe,
  type Mount,
  probeFake,
  type ProbeResult,
  type Refusal,
  responseText,
  streamChat,
  type StreamedChat,
  USER,
  withGateway,
} from "./harness.ts";
export { startOpenai } from "./openai.ts";
export { HTML_PAGE, legacyVectorOf, OLLAMA_MODELS, OLLAMA_TOOL_CALL, startOllama } from "./ollama.ts";
export { startVllm } from "./vllm.ts";
export { GPUSTACK_KEY, startGpustack } from "./gpustack.ts";
export { startXinference } from "./xinference.ts";
export { startLocalai } from "./localai.ts";
export { startLlamacpp } from "./llamacpp.ts";
export { startTei } from "./tei.ts";
export { startTriton } from "./triton.ts";
export { startInfinity } from "./infinity.ts";
