import assert from "node:assert/strict";
import { DEFAULT_EXPECT_STATUS, isExpectedStatus, parseExpectStatus } from "./expect_status.ts";

Deno.test("isExpectedStatus() by default: every answer below 500 is up, 5xx and non-statuses down", () => {
  for (const s of [100, 200, 204, 301, 302, 400, 401, 403, 404, 405, 429, 499]) {
    assert.equal(isExpectedStatus(s), true, `${s}`);
  }
  for (const s of [500, 502, 503, 504, 599, 600, 0, -1, 200.5, NaN]) {
    assert.equal(isExpectedStatus(s), false, `${s}`);
  }
  assert.deepEqual(DEFAULT_EXPECT_STATUS, [[100, 499]]);
});

Deno.test("parseExpectStatus() reads statuses, classes, ranges, lists and comma lists", () => {
  assert.deepEqual(parseExpectStatus(200), { ok: true, value: [[200, 200]] });
  assert.deepEqual(parseExpectStatus("204"), { ok: true, value: [[204, 204]] });
  assert.deepEqual(parseExpectStatus("2XX"), { ok: true, value: [[200, 299]] });
  assert.deepEqual(parseExpectStatus("200 - 399"), { ok: true, value: [[200, 399]] });
  assert.deepEqual(parseExpectStatus([200, "3xx", "401-403"]), {
    ok: true,
    value: [[200, 200], [300, 399], [401, 403]],
  });
  assert.deepEqual(parseExpectStatus("200, 204"), { ok: true, value: [[200, 200], [204, 204]] });
});

Deno.test("parseExpectStatus() refuses what is no status, with the value in the message", () => {
  assert.deepEqual(parseExpectStatus(99), { ok: false, error: "must hold statuses 100-599, received 99" });
  assert.deepEqual(parseExpectStatus("299-200"), {
    ok: false,
    error: 'range must run low to high, received "299-200"',
  });
  assert.deepEqual(parseExpectStatus("600-700"), {
    ok: false,
    error: 'must hold statuses 100-599, received "600-700"',
  });
  assert.match((parseExpectStatus("ok") as { error: string }).error, /a class \("2xx"\).*received "ok"/);
  assert.match((parseExpectStatus([]) as { error: string }).error, /received an empty list/);
  assert.match((parseExpectStatus({ a: 1 }) as { error: string }).error, /received a mapping/);
  assert.equal(parseExpectStatus(true).ok, false);
});

Deno.test("isExpectedStatus() with written ranges accepts only those", () => {
  const parsed = parseExpectStatus(["2xx", 304]);
  assert.ok(parsed.ok);
  const ranges = parsed.value;
  assert.deepEqual([200, 299, 304, 301, 404, 500].map((s) => isExpectedStatus(s, ranges)), [
    true,
    true,
    true,
    false,
    false,
    false,
  ]);
});
