/**
 * `serveIsolate()` on fake handles (no socket, no signal, no timer of the process): what it
 * listens on, what a signal does, the drain's order down to the state saved, and the start
 * failures' exit codes. The same paths through a real process: tests/drain_test.ts,
 * tests/ops_test.ts, tests/workers_test.ts, tests/cluster_failure_test.ts.
 */

import assert from "node:assert/strict";
import { connectSupervisor, type FromWorker, type ToWorker } from "../cluster/workers.ts";
import { type LoadResult, parseConfig } from "../config/load.ts";
import { fakeHandles, settle } from "./_testing.ts";
import { serveIsolate, type ServeOptions } from "./serve.ts";

const ADMIN_TOKEN = "an-admin-token-of-32-characters!";

function configOf(extra: string, model = "m"): LoadResult {
  return parseConfig(
    `
log: { level: info, format: json }
server: { drain-delay: 2000, shutdown-timeout: 1000, header-timeout: 0 }
${extra}
model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - { name: ${model}, base-url: "http://127.0.0.1:9" }
`,
    { source: "dairouter.yaml", env: {} },
  );
}

function options(fake: ReturnType<typeof fakeHandles>, loaded: LoadResult): ServeOptions {
  return {
    loaded,
    file: "dairouter.yaml",
    env: {},
    version: "9.9.9",
    otel: false,
    handles: fake.handles,
    hostname: "127.0.0.1",
    port: 0,
    reload: () => Promise.resolve(configOf("", "m2")),
  };
}

Deno.test("serveIsolate(): SIGHUP reloads; SIGTERM turns /readyz 503, closes the listener after drain-delay, saves the state, exits 0", async () => {
  const fake = fakeHandles();
  const listening = Promise.withResolvers<string>();
  let watching = 0;
  // What the watcher is told: the files of each load, so that it follows imports added or removed.
  const told: string[] = [];
  const started = configOf("state: { backend: kv, path: /tmp/never-opened.kv }");
  let reloadWith: () => Promise<LoadResult> = () =>
    Promise.resolve({ ...configOf("", "m2"), watched: ["/etc/d/app.yml", "/etc/d/app-dev.yml"] });
  const running = serveIsolate({
    ...options(fake, { ...started, watched: ["/etc/d/app.yml"] }),
    reload: () => reloadWith(),
    watch: () => (watching++, {
      loaded: (r) => told.push(`loaded ${r.watched?.join(" ")}`),
      refused: (e) => told.push(`refused ${(e as Error).message}`),
      stop: () => watching--,
    }),
    onListening: listening.resolve,
  });
  assert.equal(await listening.promise, "http://127.0.0.1:4000");
  const [server] = fake.servers;
  assert.equal(server.options.reusePort, true, "the listener renews itself on a shared port");
  assert.deepEqual([...fake.signals.keys()].sort(), ["SIGHUP", "SIGINT", "SIGTERM"]);
  assert.equal(watching, 1);
  assert.equal((await server.request("/readyz")).status, 200);

  fake.signals.get("SIGHUP")!();
  await settle();
  const models = await (await server.request("/v1/models")).json();
  assert.deepEqual(models.data.map((m: { id: string }) => m.id), ["m2"]);
  reloadWith = () => Promise.reject(new Error("bad file"));
  fake.signals.get("SIGHUP")!();
  await settle();
  assert.deepEqual(told, [
    "loaded /etc/d/app.yml",
    "loaded /etc/d/app.yml /etc/d/app-dev.yml",
    "refused bad file",
  ]);

  fake.signals.get("SIGTERM")!();
  await settle();
  assert.equal((await server.request("/readyz")).status, 503, "not ready at once");
  assert.equal(watching, 0, "the file is no longer watched");
  await fake.time.advance(1999);
  assert.equal(server.shutdowns, 0, "still serving during drain-delay");
  await fake.time.advance(1);
  assert.equal(server.shutdowns, 1);
  assert.equal(await running, 0);
  const [store] = fake.stores;
  assert.ok(store.closed, "the KV store is closed");
  assert.ok((await store.list(["dairouter"])).length > 0, "the state was saved before it closed");
  const msgs = fake.logged().map((l) => l.msg);
  assert.deepEqual(msgs.filter((m) => /listening|draining|stopped|state restored|applied/.test(String(m))), [
    "state restored",
    "listening",
    "configuration applied",
    "draining",
    "stopped",
  ]);
  assert.equal(fake.logged().at(-1)?.result, "done");
});

Deno.test("serveIsolate(): with admin.listen the admin API gets its own listener; the drain closes both", async () => {
  const fake = fakeHandles();
  const listening = Promise.withResolvers<string>();
  const running = serveIsolate({
    ...options(fake, configOf(`admin: { token: "${ADMIN_TOKEN}", listen: "127.0.0.1:9091" }`)),
    onListening: listening.resolve,
  });
  await listening.promise;
  const [main, admin] = fake.servers;
  assert.equal(admin.options.port, 9091);
  assert.equal((await main.request("/admin/config")).status, 404, "not on the main port");
  const res = await admin.handler(
    new Request("http://127.0.0.1:9091/admin/config", {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    }),
    { remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 }, completed: Promise.resolve() },
  );
  assert.equal(res.status, 200);
  await res.body?.cancel();
  fake.signals.get("SIGINT")!();
  await fake.time.advance(2000);
  assert.equal(await running, 0);
  assert.deepEqual([main.shutdowns, admin.shutdowns], [1, 1]);
  assert.ok(fake.logged().some((l) => l.msg === "admin listening" && l.address === "http://127.0.0.1:4001"));
});

Deno.test("serveIsolate(): a Redis backend that cannot be set up stops the start with exit code 1 and the reason", async () => {
  const fake = fakeHandles({
    openRedis: () => {
      throw new RangeError("bad url");
    },
  });
  const code = await serveIsolate(
    options(fake, configOf("state: { backend: redis, url: redis://127.0.0.1:1 }")),
  );
  assert.equal(code, 1);
  assert.deepEqual(fake.stderr, ["dairouter: cannot set up the Redis state backend: bad url"]);
  assert.equal(fake.servers.length, 0, "nothing listens");
});

Deno.test("serveIsolate() as a worker: no signals or watching of its own; it logs through, and drains for, the supervisor", async () => {
  const fake = fakeHandles();
  const { port1, port2 } = new MessageChannel();
  const link = connectSupervisor(port2 as never);
  const received: FromWorker[] = [];
  const stopped = Promise.withResolvers<void>();
  port1.onmessage = (e: MessageEvent<FromWorker>) => {
    received.push(e.data);
    if (e.data.t === "stopped") stopped.resolve();
  };
  const init: ToWorker = { t: "init", index: 1, count: 2, port: 4321 };
  port1.postMessage(init);
  const place = await link.init;
  let watched = false;
  const running = serveIsolate({
    ...options(fake, configOf("")),
    host: { link, ...place },
    watch: () => (watched = true, { loaded() {}, refused() {}, stop() {} }),
  });
  await settle();
  assert.equal(fake.servers[0].options.port, 4321, "the supervisor's port");
  assert.equal(fake.signals.size, 0);
  assert.equal(watched, false);
  port1.postMessage({ t: "drain", signal: "SIGTERM" } satisfies ToWorker);
  await settle();
  await fake.time.advance(2000);
  await stopped.promise;
  assert.equal(await running, 0);
  const kinds = received.map((m) => m.t);
  assert.equal(kinds[0], "listening");
  assert.equal(kinds.at(-1), "stopped");
  const logs = received.flatMap((m) => (m.t === "log" ? [new TextDecoder().decode(m.chunk)] : [])).join("");
  assert.match(logs, /"msg":"draining"/);
  assert.deepEqual(fake.logged(), [], "nothing written to stdout by a worker");
  port1.close();
  port2.close();
});
