import assert from "node:assert/strict";
import { directAt, type RelayRow, type RelayStep, rigBound } from "./relay.ts";
import { chunksPerCore, formatRelayTable, maxStreams } from "./relay_table.ts";

const step = (n: number, addedP99Ms: number, cpuPct = 10): RelayStep => ({
  n,
  pass: addedP99Ms <= 5,
  open: n,
  chunksPerS: n * 20,
  addedP50Ms: 0,
  addedP99Ms,
  pairs: n * 40,
  errors: 0,
  cpuPct,
});

const direct: RelayRow = {
  target: "direct",
  steps: [step(400, 1), step(800, 3.5), step(1600, 9)],
  best: step(800, 3.5),
  failed: step(1600, 9),
  capped: false,
  reference: [step(600, 2)],
};
const nginx: RelayRow = {
  target: "nginx",
  steps: [],
  best: step(400, 2),
  failed: step(800, 6),
  capped: false,
};
const gateway: RelayRow = {
  target: "gateway",
  steps: [],
  best: step(400, 3, 40),
  failed: step(600, 12, 60),
  capped: false,
};
const ROWS = [gateway, nginx, direct];

Deno.test("direct's steps, reference steps included, give each proxy the rig's own delay at its N", () => {
  assert.equal(directAt(ROWS, 800)?.addedP99Ms, 3.5);
  assert.equal(directAt(ROWS, 600)?.addedP99Ms, 2);
  assert.equal(directAt(ROWS, 700), undefined);
});

Deno.test("a failure within the rig's own delay makes the max a lower bound", () => {
  assert.equal(rigBound(nginx, ROWS), true); // 6 − 3.5 ≤ 5
  assert.equal(rigBound(gateway, ROWS), false); // 12 − 2 > 5
  assert.equal(maxStreams(nginx, ROWS), "≥ 400");
  assert.equal(maxStreams(gateway, ROWS), "400");
  assert.equal(maxStreams({ target: "x", steps: [], capped: false, note: "n" }), "not measured");
  const refused = { ...nginx, failed: { ...step(800, 6), errors: 3 } };
  assert.equal(rigBound(refused, ROWS), false); // errors are the proxy's own
});

Deno.test("the table shows chunks/s per core and the rig's delay beside each proxy's", () => {
  const table = formatRelayTable(ROWS);
  assert.equal(chunksPerCore(gateway.best), 20_000);
  assert.match(table, /\| gateway +\| +400 \| +8,000 \| +3\.00 \(1\.00\) \| +40 \| +20,000 \| +50\.0 \|/);
  assert.match(table, /800: p99 6\.00 \(3\.50\) ms \(rig-bound\)/);
});
