import assert from "node:assert/strict";
import { createFeed, type FeedAccess, type FeedDropReason, type FeedTimers } from "./feed.ts";

function fakeTimers() {
  const active = new Set<number>();
  let next = 1;
  const timers: FeedTimers = {
    setInterval: () => {
      active.add(next);
      return next++;
    },
    clearInterval: (id) => void active.delete(id as number),
  };
  return { timers, active };
}

/** A clock the test moves itself. */
function fakeClock(start = 0) {
  const clock = { now: start, read: () => clock.now };
  return clock;
}

async function readUntil(reader: ReadableStreamDefaultReader<string>, needle: string): Promise<string> {
  let text = "";
  while (!text.includes(needle)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  return text;
}

const signal = () => new AbortController().signal;

Deno.test("feed: one timer while pages are connected; every page gets the same tick", async () => {
  const { timers, active } = fakeTimers();
  let built = 0;
  const feed = createFeed({ tick: () => ({ n: ++built }), clock: () => 0, timers });
  const a = new AbortController(), b = new AbortController();
  const ra = feed.connect("a", a.signal)!.pipeThrough(new TextDecoderStream()).getReader();
  const rb = feed.connect("b", b.signal, "admin")!.pipeThrough(new TextDecoderStream()).getReader();
  assert.equal(active.size, 1);
  feed.tick();
  assert.equal(built, 1, "a tick is built once for all pages");
  assert.match(await readUntil(ra, '"n":1'), /event: hello\ndata: "a"\n\nevent: tick\ndata: \{"n":1\}\n\n/);
  assert.match(await readUntil(rb, '"n":1'), /data: "b"/);
  a.abort();
  assert.equal(feed.clients, 1);
  b.abort();
  assert.equal(feed.clients, 0);
  assert.equal(active.size, 0, "the timer stops with the last page");
  feed.tick();
  assert.equal(built, 1, "no page, no work");
});

Deno.test("feed: at most maxClients pages; the next one is refused", () => {
  const { timers } = fakeTimers();
  const feed = createFeed({ tick: () => 0, clock: () => 0, timers, maxClients: 2 });
  assert.ok(feed.connect(1, signal(), "admin"));
  assert.ok(feed.connect(2, signal(), "admin"));
  assert.equal(feed.connect(3, signal(), "admin"), undefined, "only admin pages can refuse an admin page");
  assert.equal(feed.connect(4, signal()), undefined);
  feed.close();
  assert.equal(feed.clients, 0);
  assert.equal(
    feed.connect(5, signal(), "admin"),
    undefined,
    "a closed feed (the gateway stopping) takes no page",
  );
});

Deno.test("feed: read-only pages take at most maxReadOnly places; admin pages still get in", () => {
  const { timers } = fakeTimers();
  const feed = createFeed({ tick: () => 0, clock: () => 0, timers, maxClients: 4 });
  assert.ok(feed.connect("r1", signal()));
  assert.ok(feed.connect("r2", signal()));
  assert.equal(feed.connect("r3", signal()), undefined, "half of maxClients by default");
  assert.equal(feed.readOnly, 2);
  assert.ok(feed.connect("a1", signal(), "admin"));
  assert.ok(feed.connect("a2", signal(), "admin"));
  assert.equal(feed.clients, 4);
  feed.close();
});

Deno.test("feed: an admin page that finds every place taken ends the oldest read-only page", async () => {
  const { timers } = fakeTimers();
  const drops: [FeedDropReason, FeedAccess][] = [];
  const feed = createFeed({
    tick: () => 0,
    clock: () => 0,
    timers,
    maxClients: 2,
    maxReadOnly: 2,
    onDrop: (reason, access) => drops.push([reason, access]),
  });
  const r1 = feed.connect("r1", signal())!.getReader();
  const r2 = feed.connect("r2", signal())!.getReader();
  assert.ok(feed.connect("a1", signal(), "admin"), "not refused: r1 makes room");
  assert.deepEqual(drops, [["evicted", "read"]]);
  await assert.rejects(r1.read(), /dropped \(evicted\)/, "the oldest read-only page is cut");
  assert.ok((await r2.read()).value, "the newer one reads on");
  assert.equal(feed.connect("r3", signal()), undefined, "a read-only page never ends another page");
  assert.ok(feed.connect("a2", signal(), "admin"));
  assert.equal(feed.readOnly, 0);
  assert.equal(feed.connect("a3", signal(), "admin"), undefined, "admin pages are never ended for another");
  assert.equal(drops.length, 2);
  feed.close();
});

Deno.test("feed: a page that takes nothing for writeTimeoutMs is dropped, long before its queue is full", async () => {
  const { timers } = fakeTimers();
  const clock = fakeClock();
  const drops: FeedDropReason[] = [];
  const feed = createFeed({
    tick: () => "x".repeat(100),
    clock: clock.read,
    timers,
    writeTimeoutMs: 10_000,
    onDrop: (reason) => drops.push(reason),
  });
  const stalled = feed.connect("stalled", signal())!.getReader(); // asks for nothing
  const live = feed.connect("live", signal())!.pipeThrough(new TextDecoderStream()).getReader();
  let ticks = 0;
  while (drops.length === 0 && ticks < 60) {
    clock.now += 1000;
    feed.tick();
    ticks++;
    await readUntil(live, "x".repeat(100));
  }
  assert.equal(ticks, 10, "dropped at the tick where its hello (queued at 0) has waited 10 s");
  assert.deepEqual(drops, ["stalled"]);
  assert.equal(feed.clients, 1, "the page that reads stays");
  await assert.rejects(
    stalled.read(),
    /dropped \(stalled\)/,
    "its stream errors: the server cuts the connection",
  );
  for (let i = 0; i < 50; i++) {
    clock.now += 1000;
    feed.tick();
    await readUntil(live, "x".repeat(100));
  }
  assert.deepEqual(drops, ["stalled"], "a page that keeps up is never dropped");
  feed.close();
});

Deno.test("feed: a page that reads slower than the feed is written is dropped once its backlog is 10 s old", async () => {
  const { timers } = fakeTimers();
  const clock = fakeClock();
  const drops: FeedDropReason[] = [];
  const feed = createFeed({
    tick: () => "y",
    clock: clock.read,
    timers,
    writeTimeoutMs: 10_000,
    onDrop: (reason) => drops.push(reason),
  });
  const slow = feed.connect("slow", signal())!.getReader();
  let taken = 0, t = 0;
  while (drops.length === 0 && t < 100) {
    clock.now = ++t * 1000;
    feed.tick();
    if (t % 2 === 0 && feed.clients === 1) {
      await slow.read();
      taken++;
    }
  }
  // One message taken every 2 s: at tick t the oldest waiting was queued at floor((t - 1) / 2) s.
  assert.equal(t, 18);
  assert.equal(taken, 8, "it was reading, just too slowly");
  assert.deepEqual(drops, ["stalled"]);
  feed.close();
});

Deno.test("feed: a page whose queue would pass maxQueuedBytes is dropped, not buffered for", async () => {
  const { timers } = fakeTimers();
  const drops: FeedDropReason[] = [];
  const feed = createFeed({
    tick: () => "x".repeat(1000),
    clock: () => 0, // time stands still: only the size bound can act
    timers,
    maxQueuedBytes: 10_000,
    onDrop: (reason) => drops.push(reason),
  });
  const slow = feed.connect("slow", signal())!.getReader(); // never read
  const fast = feed.connect("fast", signal())!.pipeThrough(new TextDecoderStream()).getReader();
  for (let i = 0; i < 20; i++) {
    feed.tick();
    await readUntil(fast, "x".repeat(1000));
  }
  assert.deepEqual(drops, ["full"]);
  assert.equal(feed.clients, 1);
  await assert.rejects(slow.read(), /dropped \(full\)/);
  feed.close();
});

Deno.test("feed: a page that leaves mid-queue frees its place and its queue", () => {
  const { timers } = fakeTimers();
  const feed = createFeed({ tick: () => "z", clock: () => 0, timers, maxClients: 2, maxReadOnly: 1 });
  const leaving = new AbortController();
  feed.connect("r", leaving.signal);
  feed.tick();
  leaving.abort();
  assert.equal(feed.readOnly, 0);
  assert.ok(feed.connect("r again", signal()), "its read-only place is free again");
  feed.close();
});

Deno.test("feed over a real socket: a client that never reads is cut once the socket's buffers are full", async () => {
  const clock = fakeClock();
  const drops: FeedDropReason[] = [];
  const { timers } = fakeTimers();
  const feed = createFeed({
    tick: () => "t".repeat(256 * 1024),
    clock: clock.read,
    timers,
    maxQueuedBytes: 256 * 1024 * 1024, // far away: only the deadline may act
    writeTimeoutMs: 10_000,
    onDrop: (reason) => drops.push(reason),
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => new Response(feed.connect("hi", req.signal, "admin")),
  );
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  try {
    await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); // then never reads
    const reader = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    const live = reader.body!.getReader();
    let received = 0;
    const reading = (async () => {
      for (;;) {
        const { value, done } = await live.read();
        if (done) return;
        received += value.byteLength;
      }
    })();
    while (feed.clients < 2) await new Promise((r) => setTimeout(r, 5));
    let ticks = 0;
    // The kernel takes a few MB for the silent socket (send and receive buffers) before the server
    // stops asking; from then on its queue ages and it is cut 10 s (10 ticks) later.
    while (drops.length === 0 && ticks < 400) {
      clock.now += 1000;
      feed.tick();
      ticks++;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(drops, ["stalled"], `after ${ticks} ticks`);
    assert.equal(feed.clients, 1, "the reading client stays");
    // The silent client's connection is cut: reading what the kernel holds ends (EOF or reset).
    const buf = new Uint8Array(1 << 20);
    let ended = false;
    const deadline = setTimeout(() => conn.close(), 20_000);
    try {
      while ((await conn.read(buf)) !== null) { /* drain */ }
      ended = true;
    } catch (error) {
      ended = error instanceof Deno.errors.ConnectionReset;
      if (!ended) throw error;
    } finally {
      clearTimeout(deadline);
    }
    assert.ok(ended, "the server closed the dropped page's connection");
    const before = received;
    clock.now += 1000;
    feed.tick();
    while (received === before) await new Promise((r) => setTimeout(r, 5));
    await live.cancel();
    await reading;
  } finally {
    feed.close();
    try {
      conn.close();
    } catch { /* closed above */ }
    await server.shutdown();
  }
});

Deno.test("createFeed() validates its options", () => {
  assert.throws(() => createFeed({ tick: 1 as never, clock: () => 0 }), TypeError);
  assert.throws(
    () => createFeed({ tick: () => 0, clock: undefined as never }),
    new TypeError('Cannot create console feed: "clock" must be a function, received undefined'),
  );
  assert.throws(
    () => createFeed({ tick: () => 0, clock: () => 0, maxClients: 0 }),
    new RangeError('Cannot create console feed: "maxClients" must be an integer >= 1, received 0'),
  );
  assert.throws(
    () => createFeed({ tick: () => 0, clock: () => 0, maxClients: 4, maxReadOnly: 5 }),
    new RangeError('Cannot create console feed: "maxReadOnly" must be <= maxClients (4), received 5'),
  );
  assert.throws(
    () => createFeed({ tick: () => 0, clock: () => 0, writeTimeoutMs: 0 }),
    new RangeError('Cannot create console feed: "writeTimeoutMs" must be an integer >= 1, received 0'),
  );
});
