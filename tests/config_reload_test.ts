/**
 * Reloads through a real gateway process: a YAML alias bomb written to the watched file is refused
 * with its line while requests keep being answered promptly, and a file at the size limit is parsed
 * in a worker, not on the event loop that serves traffic.
 */

import assert from "node:assert/strict";
import { oneInstanceYaml } from "./fakes/gateway.ts";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";
import { spawnGateway } from "./fakes/process.ts";
import { parseConfig } from "../src/config/load.ts";

/** The issue's bomb: nine aliases to nine aliases, six levels, as the instance list (line 12). */
const BOMB = [
  "x-a:",
  "  a: &a [x, x, x, x, x, x, x, x, x]",
  ...["b", "c", "d", "e", "f", "g"].map((n, i) =>
    `  ${n}: &${n} [${Array(9).fill(`*${"abcdef"[i]}`).join(", ")}]`
  ),
  "model:",
  "  services:",
  "    chat:",
  "      instances: *g",
  "",
].join("\n");

/** Sends one chat request after another until stopped; records each one's status and latency. */
function trafficTo(url: string) {
  const results: { status: number; ms: number; at: number }[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const started = performance.now();
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
      });
      await res.body?.cancel();
      results.push({ status: res.status, ms: performance.now() - started, at: performance.now() });
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    results,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function withGateway(
  fn: (
    file: string,
    gw: Awaited<ReturnType<typeof spawnGateway>>,
    upstream: ReturnType<typeof startFakeUpstream>,
  ) => Promise<void>,
  yaml: (upstream: string) => string = (url) => oneInstanceYaml(url, "log: { level: info, format: json }"),
  upstream: Parameters<typeof startFakeUpstream>[0] = { name: "A" },
) {
  const up = startFakeUpstream(upstream);
  const dir = await Deno.makeTempDir({ prefix: "dairouter-reload-" });
  const file = `${dir}/config.yaml`;
  await Deno.writeTextFile(file, yaml(up.url));
  const gw = await spawnGateway(["--config", file]);
  try {
    await fn(file, gw, up);
  } finally {
    gw.kill("SIGTERM");
    await gw.exited;
    await up.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("reload: an alias bomb written to the watched file is refused with its line, traffic flows on", async () => {
  await withGateway(async (file, gw) => {
    const traffic = trafficTo(gw.url);
    await new Promise((r) => setTimeout(r, 300));
    await Deno.writeTextFile(file, BOMB);
    const rejected = JSON.parse(await gw.waitFor(/configuration rejected/, 20_000));
    assert.match(
      rejected.error,
      /model\.services\.chat\.instances uses the alias \*g, which expands to \d+ nodes/,
    );
    assert.match(rejected.error, /\(line 12\)/);
    await new Promise((r) => setTimeout(r, 300));
    await traffic.stop();
    assert.ok(traffic.results.length > 10, `${traffic.results.length} requests`);
    assert.deepEqual([...new Set(traffic.results.map((r) => r.status))], [200], "the old table kept serving");
    const slowest = Math.max(...traffic.results.map((r) => r.ms));
    // Before: all traffic froze for 60 s. A loaded CI machine stays far below a second.
    assert.ok(slowest < 1000, `slowest request took ${slowest.toFixed(0)} ms`);
  });
});

Deno.test("reload: a file at the size limit is parsed off the event loop; requests are answered meanwhile", async () => {
  // ~1 MiB of upstream headers on one instance and an invalid weight at the end: a full parse,
  // then a refusal, so nothing is applied and only the parse itself is measured.
  const lines = [
    "model:",
    "  health-check: { enabled: false }",
    "  services:",
    "    chat:",
    "      instances:",
  ];
  lines.push("        - name: m", "          base-url: http://127.0.0.1:9", "          headers:");
  let size = lines.join("\n").length;
  for (let i = 0; size < 1024 * 1024 - 200; i++) {
    const line = `            X-Header-${i}: value-${i}`;
    lines.push(line);
    size += line.length + 1;
  }
  lines.push("          weight: -1", "");
  const heavy = lines.join("\n");
  const started = performance.now();
  assert.throws(() => parseConfig(heavy, { source: "heavy.yaml", env: {} }), /weight must be >= 0/);
  const parseMs = performance.now() - started;

  await withGateway(async (file, gw) => {
    const traffic = trafficTo(gw.url);
    await new Promise((r) => setTimeout(r, 300));
    const written = performance.now();
    await Deno.writeTextFile(file, heavy);
    const rejected = JSON.parse(await gw.waitFor(/configuration rejected/, 30_000));
    const refusedAt = performance.now();
    assert.match(rejected.error, /instances\[0\]\.weight must be >= 0, received -1/);
    await traffic.stop();
    const during = traffic.results.filter((r) => r.at > written && r.at < refusedAt);
    const slowest = Math.max(...traffic.results.map((r) => r.ms));
    assert.ok(during.length >= 3, `${during.length} requests answered while the file was loaded`);
    assert.deepEqual([...new Set(traffic.results.map((r) => r.status))], [200]);
    // Parsed on the event loop, one request would have waited the whole parse.
    assert.ok(
      slowest < Math.max(parseMs / 2, 250),
      `slowest ${slowest.toFixed(0)} ms, parse ${parseMs.toFixed(0)} ms`,
    );
  });
});

Deno.test("reload: a request waiting in the admission queue takes the room a reload adds, not max-wait", async () => {
  const limited = (max: number) => (url: string) => `
log: { level: info, format: json }
model:
  services:
    chat:
      health-check: { enabled: false }
      queue: { max-size: 10, max-wait: 20s }
      instances:
        - { name: m, base-url: "${url}", max-concurrency: ${max} }
`;
  // The holder's stream lasts 300 × 100 ms: far longer than the reload takes.
  await withGateway(
    async (file, gw, up) => {
      const body = { model: "m", stream: true, messages: [{ role: "user", content: "hi" }] };
      const post = () =>
        fetch(`${gw.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const holder = await post();
      const reader = holder.body!.getReader();
      await reader.read();
      let answered = false;
      const waiting = post().then((res) => (answered = true, res));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(answered, false, "the second request waits for the one slot");
      await Deno.writeTextFile(file, limited(2)(up.url));
      await gw.waitFor(/configuration applied/, 20_000);
      const res = await waiting;
      assert.equal(res.status, 200);
      const second = res.body!.getReader();
      assert.match(new TextDecoder().decode((await second.read()).value), /^data: /);
      assert.equal(up.openStreams, 2, "the holder still streams: the waiter got the added slot");
      await second.cancel();
      await reader.cancel();
    },
    limited(1),
    { name: "A", streamChunks: 300, chunkDelayMs: 100 },
  );
});

Deno.test("reload: a change to a key read only at start is applied at the next restart, and the log says which", async () => {
  const yaml = (extra: string) => (url: string) =>
    oneInstanceYaml(url, `log: { level: info, format: json }\n${extra}`);
  await withGateway(async (file, gw, up) => {
    await Deno.writeTextFile(file, yaml("state: { on-unavailable: deny }\nserver: { workers: 1 }")(up.url));
    const line = JSON.parse(await gw.waitFor(/read at start only/, 20_000));
    assert.deepEqual(line.keys, ["state.on-unavailable"]);
    assert.equal(line.level, "warn");
    assert.ok(gw.lines.some((l) => l.includes("configuration applied")), "the rest is applied");
  }, yaml("server: { workers: 1 }"));
});

/** Sends `fn` until it returns true or `ms` pass; the time it took, or a failure naming `what`. */
async function until(what: string, ms: number, fn: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < ms) {
    if (await fn()) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

// The reviewer's case: a JAiRouter tree started with --config application.yml, whose key lives in
// the profile file application-dev.yml. Disabling it there must revoke it without a SIGHUP, with
// one gateway isolate and with the workers' supervisor alike.
for (const workers of [1, 2]) {
  Deno.test(`reload (workers: ${workers}): a key disabled in the profile file stops working; an optional import created later is read`, async () => {
    const up = startFakeUpstream({ name: "A" });
    const dir = await Deno.makeTempDir({ prefix: "dairouter-reload-" });
    const root = `${dir}/application.yml`;
    const dev = (enabled: boolean) =>
      [
        "jairouter:",
        "  security:",
        "    enabled: true",
        "    api-key:",
        "      enabled: true",
        "      keys:",
        `        - { key-id: ops, key-value: "sk-ops-0123456789", permissions: admin, enabled: ${enabled} }`,
        '        - { key-id: ci, key-value: "sk-ci-0123456789", permissions: admin, enabled: true }',
        "",
      ].join("\n");
    await Deno.writeTextFile(
      root,
      [
        "spring:",
        "  profiles: { active: dev }",
        '  config: { import: "optional:config/extra.yml" }',
        `server: { workers: ${workers} }`,
        oneInstanceYaml(up.url, "log: { level: info, format: json }"),
      ].join("\n"),
    );
    await Deno.writeTextFile(`${dir}/application-dev.yml`, dev(true));
    const gw = await spawnGateway(["--config", root]);
    const ask = async (path: string) => {
      const res = await fetch(`${gw.url}${path}`, { headers: { authorization: "Bearer sk-ops-0123456789" } });
      return { status: res.status, body: await res.text() };
    };
    try {
      assert.equal((await ask("/v1/models")).status, 200);
      // An optional import that did not exist at the start: created, it is read.
      await Deno.mkdir(`${dir}/config`);
      await Deno.writeTextFile(
        `${dir}/config/extra.yml`,
        `model:\n  services:\n    chat:\n      instances:\n        - { name: m, base-url: "${up.url}" }\n        - { name: m2, base-url: "${up.url}" }\n`,
      );
      await until(
        "the model of the optional import listed",
        10_000,
        async () => (await ask("/v1/models")).body.includes('"m2"'),
      );
      // The key disabled in application-dev.yml: refused within a poll and a load, no SIGHUP.
      await Deno.writeTextFile(`${dir}/application-dev.yml`, dev(false));
      const ms = await until(
        "the disabled key refused",
        10_000,
        async () => (await ask("/v1/models")).status === 401,
      );
      assert.ok(ms < 10_000);
    } finally {
      gw.kill("SIGTERM");
      await gw.exited;
      await up.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
