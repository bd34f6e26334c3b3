// The console's two conversations with the gateway: the live feed (server-sent events, read with
// fetch so the admin token travels in a header, never in a URL) and calls to the admin API.

const TOKEN_KEY = "dairouter-console-token";

/** The admin token of this tab (session storage at most: gone when the tab closes). */
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? "",
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

const authHeaders = () => (token.get() ? { authorization: `Bearer ${token.get()}` } : {});

/** Whether the feed is readable without the token (`console.public-read`). */
export async function publicRead() {
  const res = await fetch("api/access", { cache: "no-store" });
  return res.ok && (await res.json()).publicRead === true;
}

/** The OpenAI-shaped error message of a failed answer, or a plain one. */
async function messageOf(res) {
  try {
    const body = await res.json();
    return body?.error?.message ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

/**
 * Opens the feed and keeps it open: reconnects after a lost connection. Calls `on.hello`,
 * `on.tick`, `on.denied(message)` (401: stops), `on.state("live" | "reconnecting")`.
 * Returns a function that closes it.
 */
export function openFeed(on) {
  const ctl = new AbortController();
  let delay = 1000;
  const run = async () => {
    while (!ctl.signal.aborted) {
      try {
        const res = await fetch("api/feed", {
          headers: authHeaders(),
          signal: ctl.signal,
          cache: "no-store",
        });
        if (res.status === 401) return on.denied(await messageOf(res));
        if (!res.ok) throw new Error(await messageOf(res));
        on.state("live");
        delay = 1000;
        await readEvents(res.body, (event, data) => (event === "hello" ? on.hello(data) : on.tick(data)));
      } catch (error) {
        if (ctl.signal.aborted) return;
        on.state("reconnecting", String(error?.message ?? error));
      }
      if (ctl.signal.aborted) return;
      on.state("reconnecting");
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  };
  run();
  return () => ctl.abort();
}

/** Reads `event:`/`data:` blocks of a text/event-stream body until it ends. */
async function readEvents(body, emit) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let end;
    while ((end = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) emit(event, JSON.parse(data));
    }
  }
}

/** Calls the admin API; resolves `{ ok, status, body, message }`. */
export async function admin(adminPath, method, path, body) {
  const res = await fetch(`${adminPath}${path}`, {
    method,
    headers: { ...authHeaders(), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.ok) return { ok: true, status: res.status, body: await res.json() };
  return { ok: false, status: res.status, message: await messageOf(res) };
}
