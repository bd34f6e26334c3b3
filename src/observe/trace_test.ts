import assert from "node:assert/strict";
import {
  createTraceContext,
  DEFAULT_TRACE_FLAGS,
  formatTraceparent,
  parseTraceparent,
  REQUEST_ID_LENGTH,
  requestId,
} from "./trace.ts";
import { seededRandom as seeded } from "../../tests/fakes/random.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";
const VALID = `00-${TRACE}-${SPAN}-01`;

Deno.test("parseTraceparent() reads the spec's example header", () => {
  assert.deepEqual(parseTraceparent(VALID), { traceId: TRACE, spanId: SPAN, flags: 1 });
  assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.flags, 0);
  assert.deepEqual(parseTraceparent(`  ${VALID} `)?.traceId, TRACE);
});

Deno.test("parseTraceparent() and formatTraceparent() round-trip", () => {
  const rnd = seeded(7);
  for (let i = 0; i < 100; i++) {
    const ctx = createTraceContext(undefined, rnd);
    const header = formatTraceparent({ ...ctx, flags: i % 256 });
    assert.equal(formatTraceparent(parseTraceparent(header)!), header);
    assert.deepEqual(parseTraceparent(header), { traceId: ctx.traceId, spanId: ctx.spanId, flags: i % 256 });
  }
});

Deno.test("parseTraceparent() rejects invalid headers", () => {
  const invalid: (string | null)[] = [
    null,
    "",
    "garbage",
    `00-${TRACE.toUpperCase()}-${SPAN}-01`, // uppercase hex
    `00-${TRACE.slice(1)}-${SPAN}-01`, // short trace id
    `00-${TRACE}-${SPAN}0-01`, // long span id
    `00-${TRACE}-${SPAN}-1`, // short flags
    `00-${"0".repeat(32)}-${SPAN}-01`, // all-zero trace id
    `00-${TRACE}-${"0".repeat(16)}-01`, // all-zero parent id
    `ff-${TRACE}-${SPAN}-01`, // forbidden version
    `0g-${TRACE}-${SPAN}-01`, // non-hex version
    `00-${TRACE}-${SPAN}-01-extra`, // version 00 must be exactly 55 characters
    `00_${TRACE}_${SPAN}_01`, // wrong separators
    `00-${TRACE.slice(0, 31)}z-${SPAN}-01`, // non-hex
    `01-${TRACE}-${SPAN}-01x`, // future version: data after flags must follow a dash
  ];
  for (const h of invalid) assert.equal(parseTraceparent(h), undefined, String(h));
});

Deno.test("parseTraceparent() accepts a future version by its version-00 prefix", () => {
  assert.deepEqual(parseTraceparent(`cc-${TRACE}-${SPAN}-01-what-the-future-holds`), {
    traceId: TRACE,
    spanId: SPAN,
    flags: 1,
  });
  assert.deepEqual(parseTraceparent(`01-${TRACE}-${SPAN}-09`)?.flags, 9);
});

Deno.test("createTraceContext() continues the parent's trace with a new span id", () => {
  const parent = parseTraceparent(`00-${TRACE}-${SPAN}-00`)!;
  const ctx = createTraceContext(parent, seeded(1));
  assert.equal(ctx.traceId, TRACE);
  assert.equal(ctx.parentSpanId, SPAN);
  assert.equal(ctx.flags, 0);
  assert.match(ctx.spanId, /^[0-9a-f]{16}$/);
  assert.notEqual(ctx.spanId, SPAN);
});

Deno.test("createTraceContext() starts a sampled trace with random ids when there is no parent", () => {
  const a = createTraceContext(undefined, seeded(1));
  const b = createTraceContext(undefined, seeded(1));
  const c = createTraceContext(undefined, seeded(2));
  assert.deepEqual(a, b);
  assert.notEqual(a.traceId, c.traceId);
  assert.match(a.traceId, /^[0-9a-f]{32}$/);
  assert.equal(a.flags, DEFAULT_TRACE_FLAGS);
  assert.equal(a.parentSpanId, undefined);
  assert.deepEqual(parseTraceparent(formatTraceparent(a))?.traceId, a.traceId);
});

Deno.test("createTraceContext() never produces all-zero ids, even from a constant-zero source", () => {
  const ctx = createTraceContext(undefined, () => 0);
  assert.notEqual(parseTraceparent(formatTraceparent(ctx)), undefined);
  assert.equal(ctx.traceId, "0".repeat(31) + "1");
});

Deno.test("requestId() is 16 base-36 characters, reproducible from the seed and spread out", () => {
  const rnd = seeded(42);
  const ids = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const id = requestId(rnd);
    assert.equal(id.length, REQUEST_ID_LENGTH);
    assert.match(id, /^[0-9a-z]+$/);
    ids.add(id);
  }
  assert.equal(ids.size, 1000);
  assert.equal(requestId(seeded(42)), requestId(seeded(42)));
  assert.equal(requestId(() => 0.9999999999), "z".repeat(16));
});
