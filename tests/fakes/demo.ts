/**
 * `deno task demo`: two simulated upstreams on 127.0.0.1:9101 and :9102, and the real gateway on
 * :8080 with config/demo.yaml. Works with no GPU; Ctrl-C stops everything.
 *
 * @module
 */

import { main } from "../../main.ts";
import { startFakeUpstream } from "./openai_upstream.ts";

const a = startFakeUpstream({ name: "A", port: 9101, streamChunks: 8, chunkDelayMs: 150 });
const b = startFakeUpstream({ name: "B", port: 9102, streamChunks: 8, chunkDelayMs: 150 });
console.log(`demo upstreams: A ${a.url}, B ${b.url}
try:
  curl -s localhost:8080/v1/models
  curl -s localhost:8080/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"demo-chat","messages":[{"role":"user","content":"hi"}]}'
  curl -sN localhost:8080/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"demo-chat","stream":true,"messages":[{"role":"user","content":"hi"}]}'
  curl -s localhost:8080/v1/chat/status
`);
const code = await main([
  "--config",
  new URL("../../config/demo.yaml", import.meta.url).pathname,
  ...Deno.args,
], Deno.env.toObject());
await a.close();
await b.close();
Deno.exit(code);
