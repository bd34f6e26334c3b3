import assert from "node:assert/strict";
import { isProbeStatusUp } from "./probe_rule.ts";

Deno.test("isProbeStatusUp() counts 2xx and 3xx as up", () => {
  for (const s of [200, 201, 204, 299, 301, 302, 304, 307, 308, 399]) {
    assert.equal(isProbeStatusUp(s), true, `${s}`);
  }
});

Deno.test("isProbeStatusUp() counts 4xx other than 404/405 as up: the server answers", () => {
  for (const s of [400, 401, 403, 408, 409, 413, 415, 422, 429, 499]) {
    assert.equal(isProbeStatusUp(s), true, `${s}`);
  }
});

Deno.test("isProbeStatusUp() counts 404 and 405 as down: the probe path is not served", () => {
  assert.equal(isProbeStatusUp(404), false);
  assert.equal(isProbeStatusUp(405), false);
});

Deno.test("isProbeStatusUp() counts 5xx and non-final or invalid statuses as down", () => {
  for (const s of [500, 502, 503, 504, 599, 600, 0, 100, 101, 199, -1, 200.5, NaN]) {
    assert.equal(isProbeStatusUp(s), false, `${s}`);
  }
});
