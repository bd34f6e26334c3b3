/**
 * A fake Ollama on 127.0.0.1 with model residency: some models start loaded; a request for
 * another one first waits `loadMs` (a cold load takes seconds on a real GPU host), then that model
 * is loaded — evicting the least recently used one beyond `maxLoaded`. Serves `GET /api/ps` (shape
 * of ollama/ollama `api/types.go` `ProcessResponse`), `GET /api/tags`, `POST /api/chat`
 * (non-streamed) and `POST /v1/chat/completions` (non-streamed).
 *
 * @module
 */

/** Options of {@linkcode startFakeOllama}. */
export interface FakeOllamaOptions {
  /** Models known to the server (pulled). */
  readonly models: readonly string[];
  /** Models loaded at start. */
  readonly loaded: readonly string[];
  /** How long loading a model takes, ms. */
  readonly loadMs: number;
  /** Most models kept loaded at once. @default {1} */
  readonly maxLoaded?: number;
  readonly port?: number;
}

/** A running fake Ollama. */
export interface FakeOllama {
  readonly url: string;
  /** Loaded models, most recently used last. */
  readonly loaded: readonly string[];
  /** Cold loads performed. */
  readonly loads: number;
  close(): Promise<void>;
}

const canonical = (name: string) => (name.lastIndexOf(":") > name.lastIndexOf("/") ? name : `${name}:latest`);

/** Starts a fake Ollama. */
export function startFakeOllama(options: FakeOllamaOptions): FakeOllama {
  const known = new Set(options.models.map(canonical));
  const loaded: string[] = options.loaded.map(canonical);
  const maxLoaded = options.maxLoaded ?? 1;
  let loads = 0;
  const loading = new Map<string, Promise<void>>();
  const pending = new Map<ReturnType<typeof setTimeout>, () => void>();

  async function ensureLoaded(model: string): Promise<void> {
    const i = loaded.indexOf(model);
    if (i !== -1) {
      loaded.splice(i, 1);
      loaded.push(model);
      return;
    }
    let p = loading.get(model);
    if (!p) {
      p = new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          pending.delete(t);
          loads++;
          loaded.push(model);
          while (loaded.length > maxLoaded) loaded.shift();
          loading.delete(model);
          resolve();
        }, options.loadMs);
        pending.set(t, resolve);
      });
      loading.set(model, p);
    }
    await p;
  }

  const ps = () =>
    Response.json({
      models: loaded.map((name) => ({
        name,
        model: name,
        size: 3_000_000_000,
        digest: "0".repeat(64),
        details: { format: "gguf", family: "llama", parameter_size: "3B", quantization_level: "Q4_K_M" },
        expires_at: "2030-01-01T00:00:00Z",
        size_vram: 3_000_000_000,
        context_length: 4096,
      })),
    });

  async function chat(req: Request, openai: boolean): Promise<Response> {
    const body = await req.json().catch(() => ({}));
    const model = canonical(String(body.model ?? ""));
    if (!known.has(model)) {
      return Response.json({ error: `model "${body.model}" not found` }, { status: 404 });
    }
    await ensureLoaded(model);
    if (openai) {
      return Response.json({
        id: "chatcmpl-ollama",
        object: "chat.completion",
        created: 0,
        model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
      });
    }
    return Response.json({ model: body.model, message: { role: "assistant", content: "hi" }, done: true });
  }

  const server = Deno.serve({ hostname: "127.0.0.1", port: options.port ?? 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/api/ps") return ps();
    if (path === "/api/tags") {
      return Response.json({ models: [...known].map((name) => ({ name, model: name })) });
    }
    if (req.method === "POST" && path === "/api/chat") return chat(req, false);
    if (req.method === "POST" && path === "/v1/chat/completions") return chat(req, true);
    return new Response("not found", { status: 404 });
  });

  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get loaded() {
      return [...loaded];
    },
    get loads() {
      return loads;
    },
    async close() {
      for (const [t, release] of pending) (clearTimeout(t), release());
      await server.shutdown();
    },
  };
}
