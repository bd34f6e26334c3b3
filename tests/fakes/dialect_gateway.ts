/**
 * The gateway of the client-dialect tests: a real gateway on loopback in front of two backends
 * that speak different dialects — a fake vLLM (OpenAI chat, SSE) and a fake Ollama reached on its
 * native `/api/chat` (NDJSON) — one public chat model on each, each with an `upstream-model`, so
 * every client library is checked against both. Beside them: instances that take the Anthropic
 * and Responses dialects natively (vLLM) and Ollama's own (Ollama), an alias pattern for Claude
 * model names, and an embedding model on each backend.
 *
 * @module
 */

import { OLLAMA_MODELS, startOllama, startVllm } from "./dialects/mod.ts";
import type { DialectFake } from "./dialects/server.ts";
import { eventually, startGateway, type TestGateway } from "./gateway.ts";

/** The public chat models, one per backend dialect, and what each backend is told. */
export const BACKENDS: readonly { readonly model: string; readonly backend: "vllm" | "ollama" }[] = [
  { model: "qwen3-vllm", backend: "vllm" },
  { model: "qwen3-ollama", backend: "ollama" },
];

/** A model on the Ollama fake that breaks mid-stream. */
export const BROKEN = "qwen3-broken";
/** A model the Ollama fake lacks: it answers Ollama's own 404. */
export const MISSING = "qwen3-missing";
/** A model on vLLM that takes Anthropic and Responses requests natively. */
export const VLLM_NATIVE = "qwen3-native";
/** A model on Ollama that takes Ollama's API natively. */
export const OLLAMA_NATIVE = "qwen3-ollama-native";

/** What a test gets. */
export interface DialectTestGateway {
  readonly gw: TestGateway;
  readonly vllm: DialectFake;
  readonly ollama: DialectFake;
  /** The fake behind a public model. */
  fakeOf(model: string): DialectFake;
}

/** More chat instances for one test: YAML list items (indented 8), given the running fakes. */
export type MoreChatInstances = (fakes: { vllm: DialectFake; ollama: DialectFake }) => string;

/**
 * The YAML: `extra` goes into the `model:` block (auth, limits…), `root` at the top, `chat` after
 * the chat instances.
 */
export function dialectGatewayYaml(
  vllm: DialectFake,
  ollama: DialectFake,
  extra = "",
  root = "",
  chat: MoreChatInstances = () => "",
): string {
  return `
${root}
model:
  load-balance: { type: round-robin }
  health-check: { enabled: false }
  aliases:
    "claude-*": qwen3-vllm
    gpt-4o-mini: qwen3-ollama
${extra}
  services:
    chat:
      instances:
        - name: qwen3-vllm
          base-url: ${vllm.url}
          adapter: vllm
          upstream-model: Qwen/Qwen3-8B
        - name: qwen3-ollama
          base-url: ${ollama.url}
          adapter: ollama
          path: /api/chat
          upstream-model: "${OLLAMA_MODELS.native}"
        - name: ${BROKEN}
          base-url: ${ollama.url}
          adapter: ollama
          path: /api/chat
          upstream-model: "${OLLAMA_MODELS.broken}"
        - name: ${MISSING}
          base-url: ${ollama.url}
          adapter: ollama
          path: /api/chat
          upstream-model: "missing:1b"
        - name: ${VLLM_NATIVE}
          base-url: ${vllm.url}
          adapter: vllm
          native-dialects: [anthropic, responses]
        - name: ${OLLAMA_NATIVE}
          base-url: ${ollama.url}
          adapter: ollama
          upstream-model: "${OLLAMA_MODELS.chat}"
          native-dialects: [ollama]
${chat({ vllm, ollama })}
    embedding:
      instances:
        - name: embed-vllm
          base-url: ${vllm.url}
          adapter: vllm
        - name: embed-ollama
          base-url: ${ollama.url}
          adapter: ollama
          upstream-model: ${OLLAMA_MODELS.embed}
`;
}

/** Serves the gateway, runs `fn`, then checks nothing is left in flight and closes everything. */
export async function withDialectGateway(
  fn: (g: DialectTestGateway) => Promise<void>,
  extra = "",
  root = "",
  chat?: MoreChatInstances,
): Promise<void> {
  const vllm = startVllm();
  const ollama = startOllama();
  const gw = startGateway(dialectGatewayYaml(vllm, ollama, extra, root, chat));
  try {
    await fn({
      gw,
      vllm,
      ollama,
      fakeOf: (model) => (model.includes("ollama") || model === BROKEN ? ollama : vllm),
    });
    // Every counter released, whatever the requests did.
    await eventually(() => gw.gateway.inFlight() === 0, "every in-flight count back to 0");
  } finally {
    await gw.close();
    await vllm.close();
    await ollama.close();
  }
}

/** The access-log lines written so far, parsed. */
export function accessLines(gw: TestGateway): Record<string, unknown>[] {
  return gw.logs.filter((l) => l.includes('"msg":"access"')).map((l) => JSON.parse(l));
}
