import assert from "node:assert/strict";
import type { HealthConfig } from "../config/types.ts";
import type { ProbeRequest } from "../types.ts";
import { planProbe, tcpAddressOf } from "./probe_plan.ts";

const HEALTH: HealthConfig = {
  enabled: true,
  intervalMs: 10_000,
  timeoutMs: 3_000,
  type: "http",
  healthyThreshold: 1,
  unhealthyThreshold: 2,
  passiveFailures: 3,
};
const adapterProbe = (): ProbeRequest => ({
  url: "http://127.0.0.1:9090/v1-openai/models",
  method: "GET",
  headers: new Headers({ authorization: "Bearer k" }),
});

Deno.test("planProbe() keeps the adapter's probe when the block names no path or method", () => {
  const plan = planProbe(HEALTH, adapterProbe, "http://127.0.0.1:9090");
  assert.equal(plan?.request, adapterProbe);
  assert.equal(plan?.timeoutMs, 3_000);
  assert.equal(plan?.expect, undefined, "absent: any answer below 500");
});

Deno.test("planProbe() joins a written path to the base URL and keeps the adapter's auth headers", () => {
  const plan = planProbe(
    { ...HEALTH, path: "/health", method: "HEAD", expectStatus: [[200, 299]] },
    adapterProbe,
    "http://127.0.0.1:9090/prefix/",
  );
  const req = plan!.request() as ProbeRequest;
  assert.equal(req.url, "http://127.0.0.1:9090/prefix/health");
  assert.equal(req.method, "HEAD");
  assert.equal(req.headers.get("authorization"), "Bearer k");
  assert.deepEqual(plan!.expect, [[200, 299]]);
});

Deno.test("planProbe() type tcp connects to the base URL's host and port; none and disabled plan nothing", () => {
  const tcp = planProbe({ ...HEALTH, type: "tcp", timeoutMs: 500 }, adapterProbe, "http://127.0.0.1:9090/x");
  assert.deepEqual(tcp?.request(), { hostname: "127.0.0.1", port: 9090 });
  assert.equal(tcp?.timeoutMs, 500);
  assert.equal(planProbe({ ...HEALTH, type: "none" }, adapterProbe, "http://h"), undefined);
  assert.equal(planProbe({ ...HEALTH, enabled: false }, adapterProbe, "http://h"), undefined);
});

Deno.test("tcpAddressOf() uses the scheme's port when the URL has none and unwraps IPv6", () => {
  assert.deepEqual(tcpAddressOf("http://gpu1"), { hostname: "gpu1", port: 80 });
  assert.deepEqual(tcpAddressOf("https://gpu1/"), { hostname: "gpu1", port: 443 });
  assert.deepEqual(tcpAddressOf("http://[::1]:11434"), { hostname: "::1", port: 11434 });
});
