/**
 * `deno task demo`: two simulated upstreams on 127.0.0.1:9101 and :9102, and the real gateway on
 * :8080 with a copy of config/demo.yaml (so the console's changes land in the copy, not in the
 * repository). `--traffic` adds a little steady traffic to watch in the console. Works with no
 * GPU; Ctrl-C stops everything.
 *
 * @module
 */

import { main } from "../../main.ts";
import { startFakeUpstream } from "./openai_upstream.ts";

const a = startFakeUpstream({ name: "A", port: 9101, streamChunks: 8, chunkDelayMs: 150 });
const b = startFakeUpstream({ name: "B", port: 9102, streamChunks: 8, chunkDelayMs: 150 });
const dir = await Deno.makeTempDir({ prefix: "dairouter-demo-" });
const config = `${dir}/demo.yaml`;
await Deno.copyFile(new URL("../../config/demo.yaml", import.meta.url), config);
const withTraffic = Deno.args.includes("--traffic");
console.log(`demo upstreams: A ${a.url}, B ${b.url}; config: ${config}
console: http://127.0.0.1:8080/ui/ (admin token: demo-admin-token-change-me, or $ADMIN_TOKEN)
try:
  curl -s localhost:8080/v1/models
  curl -s localhost:8080/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"demo-chat","messages":[{"role":"user","content":"hi"}]}'
  curl -sN localhost:8080/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"demo-chat","stream":true,"messages":[{"role":"user","content":"hi"}]}'
  curl -s localhost:8080/v1/chat/status
`);

/** A few requests a second to the demo models while the demo runs. */
async function traffic(signal: AbortSignal): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000));
  for (let i = 0; !signal.aborted; i++) {
    const body = i % 3 === 2 ? { path: "/v1/embeddings", json: { model: "demo-embed", input: "hello" } } : {
      path: "/v1/chat/completions",
      json: { model: "demo-chat", stream: i % 2 === 0, messages: [{ role: "user", content: "hi" }] },
    };
    await fetch(`http://127.0.0.1:8080${body.path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body.json),
      signal,
    }).then((r) => r.arrayBuffer()).catch(() => {});
    await new Promise((r) => setTimeout(r, 150 + 250 * Math.abs(Math.sin(i / 20))));
  }
}
const stop = new AbortController();
const background = withTraffic
  ? Promise.all([traffic(stop.signal), traffic(stop.signal)])
  : Promise.resolve();

const code = await main(
  ["--config", config, ...Deno.args.filter((x) => x !== "--traffic")],
  Deno.env.toObject(),
);
stop.abort();
await background;
await a.close();
await b.close();
await Deno.remove(dir, { recursive: true });
Deno.exit(code);
