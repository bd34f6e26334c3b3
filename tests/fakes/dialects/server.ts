/**
 * The small HTTP server every dialect fake is built on: routes keyed by `"METHOD /path"`, every
 * request recorded (bytes, parsed JSON or form), an optional API key the backend insists on, and
 * streamed bodies sent part by part with a pause between parts so tests can see them arrive.
 * Binds 127.0.0.1 port 0 only.
 *
 * @module
 */

/** A request as the fake received it. */
export interface Seen {
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly headers: Headers;
  readonly body: Uint8Array;
  /** The body parsed as a JSON object, when it was JSON. */
  readonly json?: Record<string, unknown>;
  /** The body parsed as a form, when it was multipart. */
  readonly form?: FormData;
}

/** What a route handler can use besides the request. */
export interface RouteContext {
  /** A streamed answer: each part is sent as its own chunk, `chunkDelayMs` apart. */
  stream(parts: readonly string[], contentType: string): Response;
}

/** Answers one route. */
export type RouteHandler = (req: Seen, ctx: RouteContext) => Response | Promise<Response>;

/** Options of {@linkcode serveDialect}. */
export interface DialectOptions {
  /** Backend name, also sent back as `x-upstream-name`. */
  readonly name: string;
  /** Routes keyed by `"POST /v1/chat/completions"`. */
  readonly routes: Readonly<Record<string, RouteHandler>>;
  /** When set, requests without `Authorization: Bearer <apiKey>` get a 401. */
  readonly apiKey?: string;
  /** Pause between streamed parts. @default {20} */
  readonly chunkDelayMs?: number;
  /** The backend's own answer to an unknown route. @default {a JSON 404} */
  readonly notFound?: (req: Seen) => Response;
}

/** A running dialect fake. */
export interface DialectFake {
  readonly name: string;
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: Seen[];
  /** Streamed answers still being sent. */
  readonly openStreams: number;
  /**
   * Holds back the last part of every streamed answer until the returned function is called (or
   * `maxMs` passed), so a test can check that earlier parts reached the client while the upstream
   * was still sending, without depending on timing.
   */
  hold(maxMs?: number): () => void;
  /** The last request to `path` (any method); throws when there was none. */
  last(path: string): Seen;
  close(): Promise<void>;
}

const encoder = new TextEncoder();

/** A JSON answer with the given status. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

async function record(req: Request): Promise<Seen> {
  const url = new URL(req.url);
  const body = new Uint8Array(await req.arrayBuffer());
  const type = req.headers.get("content-type") ?? "";
  let parsed: Record<string, unknown> | undefined;
  let form: FormData | undefined;
  if (type.includes("json") && body.byteLength > 0) {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } else if (type.startsWith("multipart/form-data")) {
    form = await new Response(body, { headers: { "content-type": type } }).formData();
  }
  return { method: req.method, path: url.pathname, headers: req.headers, body, json: parsed, form };
}

/** Starts a fake on 127.0.0.1 with an ephemeral port. */
export function serveDialect(options: DialectOptions): DialectFake {
  const requests: Seen[] = [];
  const delay = options.chunkDelayMs ?? 20;
  let openStreams = 0;
  let gate: Promise<void> | undefined;

  const stream = (signal: AbortSignal) => (parts: readonly string[], contentType: string): Response => {
    openStreams++;
    let open = true;
    const finish = () => {
      if (open) (open = false, openStreams--);
    };
    signal.addEventListener("abort", finish, { once: true });
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (i > 0) await new Promise((r) => setTimeout(r, delay));
        if (i === parts.length - 1 && gate) await gate;
        if (!signal.aborted && i < parts.length) controller.enqueue(encoder.encode(parts[i++]));
        // Real servers close right after the last part (e.g. `data: [DONE]`).
        if (signal.aborted || i >= parts.length) {
          finish();
          controller.close();
        }
      },
      cancel: finish,
    });
    return new Response(body, { headers: { "content-type": contentType } });
  };

  const handler = async (req: Request): Promise<Response> => {
    const seen = await record(req);
    requests.push(seen);
    if (options.apiKey !== undefined && req.headers.get("authorization") !== `Bearer ${options.apiKey}`) {
      return json({ error: { message: "Invalid or missing API key", type: "authentication_error" } }, 401);
    }
    const route = options.routes[`${seen.method} ${seen.path}`];
    const res = route
      ? await route(seen, { stream: stream(req.signal) })
      : options.notFound?.(seen) ?? json({ error: `no route ${seen.method} ${seen.path}` }, 404);
    res.headers.set("x-upstream-name", options.name);
    return res;
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  return {
    name: options.name,
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    get openStreams() {
      return openStreams;
    },
    hold(maxMs = 2000): () => void {
      let release = () => {};
      const opened = new Promise<void>((resolve) => (release = resolve));
      const timer = setTimeout(release, maxMs);
      gate = opened.then(() => clearTimeout(timer));
      return () => {
        gate = undefined;
        release();
      };
    },
    last(path: string): Seen {
      const hit = requests.findLast((r) => r.path === path);
      if (!hit) throw new Error(`${options.name} fake received nothing on ${path}`);
      return hit;
    },
    close: () => server.shutdown(),
  };
}
