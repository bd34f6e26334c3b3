import assert from "node:assert/strict";
import { parseConfig } from "../config/load.ts";
import { createGateway, type Gateway } from "../gateway.ts";
import { DeadlineSweep } from "../proxy/deadlines.ts";
import { ManualTime } from "../proxy/_testing.ts";
import { adminRoutes } from "./admin_routes.ts";

/** Four replicas of one model: they share the name, as replicas do; the ids tell them apart. */
const REPLICAS = `model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - { name: m, base-url: "http://127.0.0.1:9001", instance-id: gpu-a }
        - { name: m, base-url: "http://127.0.0.1:9002", instance-id: gpu-b }
        - { name: m, base-url: "http://127.0.0.1:9003", instance-id: gpu-c }
        - { name: m, base-url: "http://127.0.0.1:9004", instance-id: gpu-d }
admin:
  token: admin-token-0123456789abcdef
`;

interface Admin {
  readonly gateway: Gateway;
  readonly file: string;
  call(method: string, path: string, body?: unknown): Promise<Response>;
  /** `id` → `enabled` of the running config's chat instances, in order. */
  instances(): Array<[string, boolean]>;
}

async function withAdmin(yaml: string, fn: (admin: Admin) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dairouter-admin-routes-" });
  const file = `${dir}/dairouter.yaml`;
  await Deno.writeTextFile(file, yaml);
  const { config } = parseConfig(yaml, { source: file, env: {} });
  const time = new ManualTime();
  const gateway = createGateway(config, {
    clock: time.now,
    random: () => 0.5,
    fetch: () => Promise.reject(new Error("no upstream traffic in these tests")),
    write: () => {},
    deadlines: new DeadlineSweep(time),
  });
  const app = adminRoutes(gateway, { file, env: {} });
  const call = (method: string, path: string, body?: unknown) =>
    Promise.resolve(app.request(path, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }));
  const instances = () =>
    gateway.runtime().config.services.chat.instances.map((i): [string, boolean] => [i.id, i.enabled]);
  try {
    await fn({ gateway, file, call, instances });
  } finally {
    await gateway.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("admin routes: DELETE gpu-a and PATCH gpu-c at once remove gpu-a and drain gpu-c, never gpu-d", async () => {
  await withAdmin(REPLICAS, async ({ call, instances }) => {
    const [removed, drained] = await Promise.all([
      call("DELETE", "/services/chat/instances/gpu-a"),
      call("PATCH", "/services/chat/instances/gpu-c", { enabled: false }),
    ]);
    assert.equal(removed.status, 200);
    assert.deepEqual(await removed.json(), { removed: { index: 0, id: "gpu-a" } });
    assert.equal(drained.status, 200);
    const view = await drained.json();
    assert.equal(view.id, "gpu-c", "the answer shows the instance that was changed");
    assert.equal(view.index, 1, "at its index after the removal ahead of it");
    assert.deepEqual(instances(), [["gpu-b", true], ["gpu-c", false], ["gpu-d", true]]);
  });
});

Deno.test("admin routes: the same DELETE sent twice removes that instance once; the second is a 404", async () => {
  await withAdmin(REPLICAS, async ({ call, instances, file }) => {
    const answers = await Promise.all([
      call("DELETE", "/services/chat/instances/gpu-b"),
      call("DELETE", "/services/chat/instances/gpu-b"),
    ]);
    assert.deepEqual(answers.map((r) => r.status), [200, 404]);
    const error = (await answers[1].json()).error;
    assert.equal(error.code, "instance_not_found");
    assert.match(error.message, /no instance "gpu-b"/);
    await answers[0].body?.cancel();
    assert.deepEqual(instances().map(([id]) => id), ["gpu-a", "gpu-c", "gpu-d"]);
    assert.equal((await Deno.readTextFile(file)).match(/instance-id/g)?.length, 3, "the file agrees");
  });
});

Deno.test("admin routes: replicas without ids (same name, other base-url) are told apart the same way", async () => {
  const yaml = REPLICAS.replaceAll(/, instance-id: gpu-\w/g, "");
  await withAdmin(yaml, async ({ call, instances }) => {
    const [first, third] = ["http://127.0.0.1:9001", "http://127.0.0.1:9003"]
      .map((url) => encodeURIComponent(`chat/m@${url}`));
    const answers = await Promise.all([
      call("DELETE", `/services/chat/instances/${first}`),
      call("PATCH", `/services/chat/instances/${third}`, { weight: 5 }),
      call("DELETE", `/services/chat/instances/${first}`),
    ]);
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 404]);
    await Promise.all(answers.map((r) => r.body?.cancel()));
    const chat = instances().map(([id]) => id.replace("chat/m@http://127.0.0.1:", ""));
    assert.deepEqual(chat, ["9002", "9003", "9004"]);
    assert.deepEqual(
      (await call("GET", "/services/chat/instances").then((r) => r.json())).instances.map((
        i: { weight: number },
      ) => i.weight),
      [1, 5, 1],
    );
  });
});

Deno.test("admin routes: an index names the instance that was there when the request arrived", async () => {
  await withAdmin(REPLICAS, async ({ call, instances }) => {
    // Both callers listed [a, b, c, d]: one removes 0 (gpu-a), the other drains 2 (gpu-c).
    const answers = await Promise.all([
      call("DELETE", "/services/chat/instances/0"),
      call("PATCH", "/services/chat/instances/2", { enabled: false }),
      // A double click on "remove 0": the second finds gpu-a gone, it does not remove gpu-b.
      call("DELETE", "/services/chat/instances/0"),
    ]);
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 404]);
    assert.match((await answers[2].json()).error.message, /"gpu-a" \(instance 0 when the request arrived/);
    await Promise.all(answers.slice(0, 2).map((r) => r.body?.cancel()));
    assert.deepEqual(instances(), [["gpu-b", true], ["gpu-c", false], ["gpu-d", true]]);
  });
});

Deno.test("admin routes: an id is looked up in the file as it is now; one only the running config has is a 409", async () => {
  await withAdmin(REPLICAS, async ({ call, file, instances }) => {
    // Edited by hand (not reloaded yet): a new first instance, gpu-d gone.
    const text = await Deno.readTextFile(file);
    await Deno.writeTextFile(
      file,
      text.replace(
        "        - { name: m",
        '        - { name: n, base-url: "http://127.0.0.1:9000" }\n        - { name: m',
      )
        .replace(/ {8}- \{[^\n]*gpu-d \}\n/, ""),
    );
    const patched = await call("PATCH", "/services/chat/instances/gpu-c", { weight: 3 });
    assert.equal(patched.status, 200);
    assert.equal((await patched.json()).index, 3, "found where the file has it now");
    assert.deepEqual(instances().map(([id]) => id), [
      "chat/n@http://127.0.0.1:9000",
      "gpu-a",
      "gpu-b",
      "gpu-c",
    ]);

    await Deno.writeTextFile(file, (await Deno.readTextFile(file)).replace(/ {8}- \{[^\n]*gpu-b \}\n/, ""));
    const gone = await call("PATCH", "/services/chat/instances/gpu-b", { weight: 3 });
    assert.equal(gone.status, 409);
    assert.match(
      (await gone.json()).error.message,
      /"gpu-b" of chat is in the running config but not in the file/,
    );
    const missing = await call("DELETE", "/services/chat/instances/gpu-z");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  });
});

Deno.test("admin routes: an instance sent back as GET shows it, secrets as [redacted], is refused; the file keeps them", async () => {
  const yaml = REPLICAS.replace(
    "instance-id: gpu-a }",
    "instance-id: gpu-a, api-key: sk-upstream-0123456789, headers: { X-Tenant: acme-secret } }",
  );
  await withAdmin(yaml, async ({ call, file }) => {
    const shown = await (await call("GET", "/services/chat/instances/gpu-a")).json();
    assert.equal(shown.headers["X-Tenant"], "[redacted]");
    const { index: _i, healthy: _h, breaker: _b, inFlight: _f, ...instance } = shown;
    const put = await call("PUT", "/services/chat/instances/gpu-a", instance);
    assert.equal(put.status, 400);
    const error = (await put.json()).error;
    assert.equal(error.code, "redacted_value");
    assert.match(error.param, /^(apiKey|headers\.X-Tenant)$/);
    const text = await Deno.readTextFile(file);
    assert.ok(text.includes("sk-upstream-0123456789") && text.includes("acme-secret"), "the secrets stay");
  });
});
