import assert from "node:assert/strict";
import { parseDuration, parseSize } from "./units.ts";

const ok = (r: ReturnType<typeof parseDuration>) => (r.ok ? r.value : Number.NaN);

Deno.test("parseDuration() reads numbers as ms and strings with ms, s, m, h, d", () => {
  assert.deepEqual(
    [60000, "500ms", "30s", "10m", "1h", "1d", "1.5s", " 2 S ", "250"].map((v) => ok(parseDuration(v))),
    [60000, 500, 30000, 600000, 3600000, 86400000, 1500, 2000, 250],
  );
});

Deno.test("parseDuration() rejects unknown units, negatives and non-values", () => {
  for (const v of ["soon", "10 minutes", "-5s", "", true, null, [1], Infinity]) {
    const r = parseDuration(v);
    assert.ok(!r.ok, String(v));
  }
  const r = parseDuration("soon");
  assert.ok(
    !r.ok && r.error === 'must be a duration in ms or a string like "500ms", "30s", "10m", received "soon"',
  );
});

Deno.test("parseSize() reads bytes and binary kb, mb, gb in any case", () => {
  assert.deepEqual(
    [1024, "512kb", "10mb", "10MB", "1gb", "25MiB", "100b", "2k"].map((v) => ok(parseSize(v))),
    [1024, 524288, 10485760, 10485760, 1073741824, 26214400, 100, 2048],
  );
  assert.ok(!parseSize("10 parsecs").ok);
});
