import assert from "node:assert/strict";
import type { GatewayError } from "../errors.ts";
import { DeadlineSweep, type TimerApi } from "../proxy/deadlines.ts";
import { type BodyGuardOptions, drainUnread, PendingBodies, readGuarded } from "./body_guard.ts";

/** A sweep on a manual clock: `advance()` fires what is due. */
function manualSweep() {
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  const api: TimerApi = {
    now: () => now,
    setTimeout: (fn, ms) => (timers.set(next, { at: now + ms, fn }), next++),
    clearTimeout: (id) => void timers.delete(id as number),
  };
  const advance = async (ms: number) => {
    now += ms;
    for (const [id, t] of [...timers]) {
      if (t.at <= now) {
        timers.delete(id);
        t.fn();
      }
    }
    await new Promise((r) => setTimeout(r, 0));
  };
  return { sweep: new DeadlineSweep(api), advance };
}

function options(
  over: Partial<BodyGuardOptions> = {},
): BodyGuardOptions & { advance(ms: number): Promise<void> } {
  const { sweep, advance } = manualSweep();
  return {
    limit: 1000,
    idleTimeoutMs: 100,
    totalTimeoutMs: 1000,
    maxPendingBytes: 2000,
    pending: new PendingBodies(),
    deadlines: sweep,
    advance,
    ...over,
  };
}

/** A body stream the test feeds by hand. */
function feed() {
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctrl = c) });
  return { body, push: (n: number) => ctrl.enqueue(new Uint8Array(n)), end: () => ctrl.close() };
}

const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  new Request("http://x/", { method: "POST", body, headers });

async function status(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return `${(e as GatewayError).status} ${(e as GatewayError).code}`;
  }
}

Deno.test("readGuarded() reads chunk by chunk and gives every reserved byte back", async () => {
  const o = options();
  const f = feed();
  const read = readGuarded(post(f.body), o);
  f.push(300);
  await o.advance(50);
  f.push(300);
  await o.advance(50);
  assert.equal(o.pending.bytes, 600, "chunks are reserved as they arrive");
  f.end();
  assert.equal((await read).byteLength, 600);
  assert.equal(o.pending.bytes, 0);
});

Deno.test("readGuarded() reads a chunked byte stream through small buffers, large ones while reads come full, the end through a small one", async () => {
  // A socket stand-in: each piece is what has arrived; a read takes what fits in the buffer it offers.
  const pieces = [20_000, 3, 70_000].map((n, k) => Uint8Array.from({ length: n }, (_, i) => (i + k) % 251));
  const offered: number[] = [];
  let piece = 0, at = 0;
  const body = new ReadableStream({
    type: "bytes",
    pull(c) {
      const view = c.byobRequest!.view!;
      offered.push(view.byteLength);
      if (piece === pieces.length) {
        c.close();
        c.byobRequest!.respond(0);
        return;
      }
      const n = Math.min(view.byteLength, pieces[piece].byteLength - at);
      new Uint8Array(view.buffer, view.byteOffset, n).set(pieces[piece].subarray(at, at + n));
      at += n;
      if (at === pieces[piece].byteLength) [piece, at] = [piece + 1, 0];
      c.byobRequest!.respond(n);
    },
  });
  const o = options({ limit: 1 << 20, maxPendingBytes: 1 << 20 });
  const bytes = await readGuarded(post(body), o);
  const sent = new Uint8Array(pieces.reduce((n, p) => n + p.byteLength, 0));
  pieces.reduce((off, p) => (sent.set(p, off), off + p.byteLength), 0);
  assert.deepEqual(bytes, sent);
  // 8 KiB full → 64 KiB (the first piece's rest) → 8 KiB (3 bytes) → 8 KiB full → 64 KiB (the rest) → the end.
  assert.deepEqual(offered, [8192, 65536, 8192, 8192, 65536, 8192]);
  assert.equal(o.pending.bytes, 0);
});

Deno.test("readGuarded() answers 408 when nothing arrives for the idle timeout, and releases", async () => {
  const o = options();
  const f = feed();
  const read = status(readGuarded(post(f.body), o));
  f.push(10);
  await o.advance(60);
  f.push(10);
  await o.advance(60);
  assert.equal(o.pending.bytes, 20, "still within the idle timeout: each chunk moved it");
  await o.advance(120);
  assert.equal(await read, "408 request_timeout");
  assert.equal(o.pending.bytes, 0);
});

Deno.test("readGuarded() answers 408 at the total timeout however steady the drip", async () => {
  const o = options({ totalTimeoutMs: 300 });
  const f = feed();
  const read = status(readGuarded(post(f.body), o));
  for (let i = 0; i < 5; i++) {
    f.push(1);
    await o.advance(80);
  }
  assert.equal(await read, "408 request_timeout");
  assert.equal(o.pending.bytes, 0);
});

Deno.test("readGuarded() refuses past the pending cap with 503 and Retry-After, reserving nothing", async () => {
  const o = options({ maxPendingBytes: 1500 });
  const a = feed();
  const first = readGuarded(post(a.body, { "content-length": "900" }), o);
  await o.advance(1);
  assert.equal(o.pending.bytes, 900, "a sized body reserves its declared length up front");
  const b = feed();
  try {
    await readGuarded(post(b.body, { "content-length": "900" }), o);
    assert.fail("accepted past the cap");
  } catch (e) {
    assert.equal((e as GatewayError).status, 503);
    assert.equal((e as GatewayError).headers["retry-after"], "1");
  }
  assert.equal(o.pending.bytes, 900);
  a.push(900);
  a.end();
  await first;
  assert.equal(o.pending.bytes, 0);
});

Deno.test("readGuarded() refuses by Content-Length and by counting with 413, releasing what it held", async () => {
  const o = options();
  assert.equal(
    await status(readGuarded(post("x".repeat(5), { "content-length": "5000" }), o)),
    "413 payload_too_large",
  );
  const f = feed();
  const read = status(readGuarded(post(f.body), o));
  f.push(600);
  await o.advance(1);
  f.push(600);
  assert.equal(await read, "413 payload_too_large");
  assert.equal(o.pending.bytes, 0);
});

Deno.test("drainUnread() reads and drops an unread body, and stops at the idle deadline", async () => {
  const o = options();
  const f = feed();
  const req = post(f.body);
  drainUnread(req, o);
  assert.equal(req.bodyUsed, true, "the body is being read");
  f.push(100);
  await o.advance(50);
  assert.equal(o.pending.bytes, 0, "drained bytes are not buffered");
  await o.advance(200);
  assert.equal(o.deadlines.size, 0, "the drain stopped at its deadline");
});

Deno.test("readGuarded() counts each body being received once, until its read is over, whatever the end", async () => {
  const o = options();
  // Chunked, complete.
  const f = feed();
  const read = readGuarded(post(f.body), o);
  f.push(300);
  await o.advance(50);
  assert.equal(o.pending.reads, 1, "a chunked body being received");
  f.end();
  await read;
  assert.equal(o.pending.reads, 0);
  // Sized and small (one native read), complete.
  await readGuarded(post("abc", { "content-length": "3" }), o);
  assert.equal(o.pending.reads, 0);
  // Stalled past the idle timeout: 408, and the read is over.
  const stalled = feed();
  const late = status(readGuarded(post(stalled.body), o));
  stalled.push(10);
  await o.advance(60_000);
  assert.match(await late, /^408/);
  assert.equal(o.pending.reads, 0);
  // Sized and small, stalled: the 408 ends its count though Deno's read stays pending until the
  // connection closes (which the listener renewal it no longer holds back does).
  const sized = feed();
  const small = status(readGuarded(post(sized.body, { "content-length": "100" }), o));
  sized.push(10);
  await o.advance(60_000);
  assert.match(await small, /^408/);
  assert.equal(o.pending.reads, 0);
  sized.end();
  await o.advance(1);
  assert.equal(o.pending.reads, 0, "counted once");
  // An early answer: the rest is drained, counted until the drain ends.
  const early = feed();
  drainUnread(post(early.body), o);
  await o.advance(1);
  assert.equal(o.pending.reads, 1, "a drain receives too");
  early.end();
  await o.advance(1);
  assert.equal(o.pending.reads, 0);
});
