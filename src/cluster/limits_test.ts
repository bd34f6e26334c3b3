import assert from "node:assert/strict";
import type { LimitBackend, LimitCheck } from "../limiter/backend.ts";
import { createClusterLimits } from "./limits.ts";

const CHECK: LimitCheck = {
  scope: "api-key",
  name: "api-key:k",
  key: "k",
  cost: -40,
  config: {
    enabled: true,
    algorithm: "token-bucket",
    capacity: 100,
    rate: 1,
    windowMs: 1000,
    scope: "service",
    clientIpEnable: false,
    maxKeys: 10,
  },
};

Deno.test("createClusterLimits() adjust(): passed to the backend while it is up; skipped while down; a failure is counted, never thrown", async () => {
  const adjusted: Array<[number, number]> = [];
  let up = true;
  let fail = false;
  const reasons: string[] = [];
  const backend: LimitBackend = {
    decide: () => ({ denied: -1, decision: undefined, extra: [], at: 0 }),
    rewarm() {},
    adjust(checks, at) {
      if (fail) return Promise.reject(new Error("timeout"));
      adjusted.push([checks[0].cost!, at]);
    },
  };
  const limits = createClusterLimits({
    backend,
    up: () => up,
    onUnavailable: "deny",
    fellBack: (r) => reasons.push(r),
  });
  await limits.adjust([CHECK], 1234.5);
  up = false;
  await limits.adjust([CHECK], 2000);
  up = true;
  fail = true;
  await limits.adjust([CHECK], 3000);
  assert.deepEqual(adjusted, [[-40, 1234.5]]);
  assert.deepEqual(reasons, ["error"]);
});
