/**
 * Operations through real processes and sockets: the CLI, SIGTERM draining a live stream, SIGHUP
 * and file-change reloads (an invalid file keeps the old config), reload under load, metrics that
 * match the traffic, access logs without secrets, and OpenTelemetry spans on a local OTLP endpoint.
 */

import assert from "node:assert/strict";
import { startGateway } from "./fakes/gateway.ts";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";
import { runCli, spawnGateway } from "./fakes/process.ts";
import { parseConfig } from "../src/config/load.ts";

const yamlFor = (urls: string[], model = "m", extra = "") => `
log:
  level: info
  format: json
server:
  drain-delay: 0
  shutdown-timeout: 10000
model:
  health-check:
    enabled: false
${extra}
  services:
    chat:
      instances:
${
  urls.map((u) => `        - { name: "${model}", base-url: "${u}", api-key: "sk-upstream-secret-123" }`).join(
    "\n",
  )
}
`;

async function tempConfig(text: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "dairouter-test-" });
  const path = `${dir}/config.yaml`;
  await Deno.writeTextFile(path, text);
  return path;
}

const chatBody = (model = "m", stream = false) =>
  JSON.stringify({ model, stream, messages: [{ role: "user", content: "hi" }] });
const post = (url: string, body: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });

Deno.test("CLI: --version, --help, check on a valid file, and a config error naming file, line and key", async () => {
  const version = await runCli(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^dairouter \d+\.\d+\.\d+/);
  const help = await runCli(["--help"]);
  assert.match(help.stdout, /dairouter check --config FILE/);

  const good = await tempConfig(yamlFor(["http://127.0.0.1:9"]));
  const ok = await runCli(["check", "--config", good]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /is valid: 1 instances/);

  const bad = await tempConfig(
    yamlFor(["http://127.0.0.1:9"]).replace('api-key: "sk-upstream-secret-123"', "weight: -1"),
  );
  const res = await runCli(["check", "--config", bad]);
  assert.equal(res.code, 1);
  assert.match(
    res.stderr,
    /Cannot load config ".*config\.yaml": model\.services\.chat\.instances\[0\]\.weight must be >= 0, received -1 \(line \d+\)/,
  );
});

Deno.test("SIGTERM during a stream: the stream finishes, new connections are refused, exit code 0", async () => {
  const up = startFakeUpstream({ name: "A", streamChunks: 8, chunkDelayMs: 60 });
  const gw = await spawnGateway(["--config", await tempConfig(yamlFor([up.url]))]);
  try {
    const res = await post(gw.url, chatBody("m", true));
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = (await reader.read()).value ?? "";
    gw.kill("SIGTERM");
    await gw.waitFor(/"msg":"draining"/);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
    }
    assert.match(text, /data: \[DONE\]/);
    assert.equal((text.match(/chat\.completion\.chunk/g) ?? []).length, 8);
    assert.equal(await gw.exited, 0);
    await assert.rejects(fetch(`${gw.url}/healthz`));
  } finally {
    await up.close();
  }
});

Deno.test("SIGHUP and file changes reload; an invalid file is rejected and the old config kept", async () => {
  const up = startFakeUpstream({ name: "A" });
  const path = await tempConfig(yamlFor([up.url], "first"));
  const gw = await spawnGateway(["--config", path]);
  const models = async () =>
    (await (await fetch(`${gw.url}/v1/models`)).json()).data.map((m: { id: string }) => m.id);
  try {
    assert.deepEqual(await models(), ["first"]);
    await Deno.writeTextFile(path, yamlFor([up.url], "second"));
    gw.kill("SIGHUP");
    await gw.waitFor(/configuration applied/);
    assert.deepEqual(await models(), ["second"]);

    const applied = gw.lines.filter((l) => l.includes("configuration applied")).length;
    await Deno.writeTextFile(path, yamlFor([up.url], "third").replace("format: json", "format: [broken"));
    await gw.waitFor(/configuration rejected; keeping the previous one/);
    assert.deepEqual(await models(), ["second"]);
    assert.ok(gw.lines.some((l) => /rejected.*line \d+/.test(l)), "the rejection names the line");

    await Deno.writeTextFile(path, yamlFor([up.url], "fourth"));
    for (
      let i = 0;
      i < 100 && gw.lines.filter((l) => l.includes("configuration applied")).length === applied;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(await models(), ["fourth"], "a file change reloads without a signal");
  } finally {
    gw.kill("SIGTERM");
    await gw.exited;
    await up.close();
  }
});

Deno.test("a reload under load drops no request, and in-flight streams finish on the old table", async () => {
  const a = startFakeUpstream({ name: "A", streamChunks: 3, chunkDelayMs: 2 });
  const b = startFakeUpstream({ name: "B", streamChunks: 3, chunkDelayMs: 2 });
  const gw = startGateway(yamlFor([a.url, b.url]));
  try {
    let failures = 0, done = 0, stop = false;
    const worker = async (i: number) => {
      while (!stop) {
        const res = await post(gw.url, chatBody("m", i % 2 === 0));
        const text = await res.text();
        if (res.status !== 200 || (i % 2 === 0 && !text.includes("[DONE]"))) failures++;
        done++;
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, i) => worker(i)));
    for (let i = 0; i < 20; i++) {
      const urls = i % 2 ? [a.url, b.url] : [b.url];
      gw.gateway.reload(parseConfig(yamlFor(urls), { source: "reload.yaml", env: {} }).config);
      await new Promise((r) => setTimeout(r, 15));
    }
    stop = true;
    await load;
    assert.ok(done > 50, `load ran (${done} requests)`);
    assert.equal(failures, 0);
    for (const u of gw.gateway.runtime().upstreams) assert.equal(u.stats.inFlight, 0);
  } finally {
    await gw.close();
    await a.close();
    await b.close();
  }
});

Deno.test("metrics text parses and its counts match the requests sent; no log line holds a secret", async () => {
  const a = startFakeUpstream({ name: "A" });
  const gw = startGateway(yamlFor([a.url]));
  try {
    for (let i = 0; i < 5; i++) await (await post(gw.url, chatBody())).arrayBuffer();
    for (let i = 0; i < 2; i++) await (await post(gw.url, chatBody("nope"))).arrayBuffer();
    const res = await fetch(`${gw.url}/metrics`);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await res.text();
    const samples = new Map<string, number>();
    for (const line of text.split("\n")) {
      if (!line || line.startsWith("#")) continue;
      const m = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (-?[\d.e+-]+|NaN|\+Inf)$/.exec(line);
      assert.ok(m, `unparseable metrics line: ${line}`);
      samples.set(m[1], Number(m[2]));
    }
    const count = (pred: (k: string) => boolean) =>
      [...samples].filter(([k]) => k.startsWith("dairouter_requests_total{") && pred(k)).reduce(
        (n, [, v]) => n + v,
        0,
      );
    assert.equal(count((k) => k.includes('status="200"') && k.includes('model="m"')), 5);
    assert.equal(count((k) => k.includes('status="404"')), 2);
    assert.equal(count(() => true), 7);
    assert.equal(
      [...samples].find(([k]) => k.startsWith("dairouter_tokens_total{") && k.includes('direction="out"'))
        ?.[1],
      25,
      "5 answers × 5 completion tokens",
    );

    const access = gw.logs.filter((l) => l.includes('"msg":"access"'));
    assert.equal(access.length, 7);
    const rec = JSON.parse(access[0]);
    for (
      const f of [
        "requestId",
        "traceId",
        "clientIp",
        "service",
        "model",
        "instance",
        "status",
        "durationMs",
        "retries",
      ]
    ) {
      assert.ok(f in rec, `access line has ${f}`);
    }
    assert.ok(
      !gw.logs.some((l) => l.includes("sk-upstream-secret-123")),
      "the upstream key never reaches a log line",
    );
    assert.equal(a.requests[0].headers.get("authorization"), "Bearer sk-upstream-secret-123");
  } finally {
    await gw.close();
    await a.close();
  }
});

Deno.test("OpenTelemetry: spans reach a local OTLP endpoint and the incoming trace id is continued upstream", async () => {
  const bodies: string[] = [];
  const collector = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    if (new URL(req.url).pathname === "/v1/traces") bodies.push(await req.text());
    else await req.body?.cancel();
    return Response.json({});
  });
  const up = startFakeUpstream({ name: "A" });
  const gw = await spawnGateway(["--config", await tempConfig(yamlFor([up.url]))], {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.addr.port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_SERVICE_NAME: "dairouter-test",
  });
  try {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: chatBody(),
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const sent = up.requests[0].headers.get("traceparent") ?? "";
    assert.match(
      sent,
      new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`),
      "exactly one traceparent, continuing the trace",
    );
    gw.kill("SIGTERM");
    await gw.exited;
    const all = bodies.join("\n");
    assert.ok(all.includes("dairouter-test"), "spans carry the service name");
    assert.ok(all.includes(traceId), "a span belongs to the incoming trace");
  } finally {
    await up.close();
    await collector.shutdown();
  }
});

Deno.test("streamed chat: the gateway asks for usage, counts the tokens, and hides the usage chunk from the client", async () => {
  const a = startFakeUpstream({ name: "A", streamChunks: 4 });
  const gw = startGateway(yamlFor([a.url]));
  try {
    const text = await (await post(gw.url, chatBody("m", true))).text();
    assert.ok(!text.includes('"usage"'), "the client did not ask for usage and gets none");
    assert.match(text, /data: \[DONE\]\n\n$/);
    const sent = JSON.parse(new TextDecoder().decode(a.requests[0].body));
    assert.deepEqual(sent.stream_options, { include_usage: true });
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /dairouter_tokens_total\{[^}]*direction="out"[^}]*\} 4\n/);
    const access = JSON.parse(gw.logs.find((l) => l.includes('"msg":"access"'))!);
    assert.equal(access.tokensOut, 4);
    assert.equal(access.tokensIn, 7);

    const asked = await (await post(
      gw.url,
      JSON.stringify({ model: "m", stream: true, stream_options: { include_usage: true }, messages: [] }),
    )).text();
    assert.match(asked, /"usage":\{"prompt_tokens":7/, "a client that asked keeps its usage chunk");
  } finally {
    await gw.close();
    await a.close();
  }
});

Deno.test("streamed chat with CRLF events (sse-starlette's default): each event reaches the client at once, the usage chunk is still hidden and counted", async () => {
  const a = startFakeUpstream({ name: "A", streamChunks: 4, chunkDelayMs: 100, sseLineEnd: "\r\n" });
  const gw = startGateway(yamlFor([a.url]));
  try {
    const res = await post(gw.url, chatBody("m", true));
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = (await reader.read()).value!;
    assert.match(text, /^data: \{.*"content":"w0 "/);
    assert.equal(a.openStreams, 1, "the first event arrived while the upstream was still streaming");
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
    assert.ok(!text.includes('"usage"'), "the usage chunk the gateway asked for is hidden");
    assert.match(text, /data: \[DONE\]\r\n\r\n$/);
    assert.equal(text.match(/\r\n\r\n/g)?.length, 5, "four chunks and [DONE], as the upstream wrote them");
    const access = JSON.parse(gw.logs.find((l) => l.includes('"msg":"access"'))!);
    assert.equal(access.tokensOut, 4);
    assert.equal(access.tokensIn, 7);
  } finally {
    await gw.close();
    await a.close();
  }
});

Deno.test("ops: an upstream answer that breaks off cuts the client with one plain stderr line, not a stack", async () => {
  // A speech answer (raw audio: no error event in its format) that breaks after 64 KiB.
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.body?.cancel();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 2) c.enqueue(new Uint8Array(32 * 1024));
        // (A one-line stack: this test's own server prints it as it cuts the gateway off.)
        else {c.error(
            Object.assign(new Error("broke off"), { stack: "the fake upstream broke off on purpose" }),
          );}
      },
    });
    return new Response(body, { headers: { "content-type": "audio/wav" } });
  });
  const dir = await Deno.makeTempDir({ prefix: "dairouter-cut-" });
  const file = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    file,
    `log: { level: info, format: json }
model:
  health-check: { enabled: false }
  services:
    tts:
      instances:
        - { name: voice, base-url: "http://127.0.0.1:${upstream.addr.port}" }
`,
  );
  const gw = await spawnGateway(["--config", file]);
  try {
    const res = await fetch(`${gw.url}/v1/audio/speech`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "voice", input: "hi", voice: "a" }),
    });
    assert.equal(res.status, 200);
    await assert.rejects(res.arrayBuffer(), "the client sees a cut, not a clean end");
    await gw.waitFor(/"msg":"access".*"error":"upstream_body"/);
    const cut = await gw.waitFor(/UpstreamBodyCut/);
    assert.match(cut, /the upstream's answer broke off \(.+\); the client's connection was cut/);
    const stack = gw.lines.filter((l) => /^\s+at |ext:deno_/.test(l));
    assert.deepEqual(stack, [], "no stack trace on stderr");
  } finally {
    gw.kill("SIGTERM");
    await gw.exited;
    await upstream.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
