import assert from "node:assert/strict";
import { createFeed, type FeedTimers } from "./feed.ts";

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

async function readUntil(reader: ReadableStreamDefaultReader<string>, needle: string): Promise<string> {
  let text = "";
  while (!text.includes(needle)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  return text;
}

Deno.test("feed: one timer while pages are connected; every page gets the same tick", async () => {
  const { timers, active } = fakeTimers();
  let built = 0;
  const feed = createFeed({ tick: () => ({ n: ++built }), timers });
  const a = new AbortController(), b = new AbortController();
  const ra = feed.connect("a", a.signal)!.pipeThrough(new TextDecoderStream()).getReader();
  const rb = feed.connect("b", b.signal)!.pipeThrough(new TextDecoderStream()).getReader();
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
  const feed = createFeed({ tick: () => 0, timers, maxClients: 2 });
  const s = new AbortController().signal;
  assert.ok(feed.connect(1, s));
  assert.ok(feed.connect(2, s));
  assert.equal(feed.connect(3, s), undefined);
  feed.close();
  assert.equal(feed.clients, 0);
  assert.equal(feed.connect(4, s), undefined, "a closed feed (the gateway stopping) takes no page");
});

Deno.test("feed: a page that stops reading is dropped once its queue is full, not buffered for", async () => {
  const { timers } = fakeTimers();
  let drops = 0;
  const feed = createFeed({
    tick: () => "x".repeat(1000),
    timers,
    maxQueuedBytes: 10_000,
    onDrop: () => drops++,
  });
  const slow = feed.connect("slow", new AbortController().signal)!; // never read
  const fast = feed.connect("fast", new AbortController().signal)!.pipeThrough(new TextDecoderStream())
    .getReader();
  for (let i = 0; i < 20; i++) {
    feed.tick();
    await readUntil(fast, "x".repeat(1000));
  }
  assert.equal(drops, 1);
  assert.equal(feed.clients, 1);
  // The slow page's stream ends after what was queued.
  let text = "";
  for await (const chunk of slow.pipeThrough(new TextDecoderStream())) text += chunk;
  assert.ok(text.length < 12_000, `queued ${text.length}`);
  feed.close();
});

Deno.test("createFeed() validates its options", () => {
  assert.throws(() => createFeed({ tick: 1 as never }), TypeError);
  assert.throws(
    () => createFeed({ tick: () => 0, maxClients: 0 }),
    new RangeError('Cannot create console feed: "maxClients" must be an integer >= 1, received 0'),
  );
});
