import assert from "node:assert/strict";
import { parseHead, scanEvents, Tail } from "./sse_scan.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("scanEvents counts events and reads each chunk's send time", () => {
  const b = bytes(
    '1a\r\ndata: {"id":"chatcmpl-17","x":1}\n\n\r\n1a\r\ndata: {"id":"chatcmpl-bench"}\n\n\r\n',
  );
  const stamps: number[] = [];
  assert.deepEqual(scanEvents(b, 0, b.length, stamps), { events: 2, done: false });
  assert.deepEqual(stamps, [17]); // an id without digits carries no time
});

Deno.test("scanEvents looks only inside its range, and a cut stamp is no stamp", () => {
  const b = bytes('data: {"id":"chatcmpl-123456"}\n\ndata: [DONE]\n\n');
  const stamps: number[] = [];
  assert.deepEqual(scanEvents(b, 0, 25, stamps), { events: 1, done: false });
  assert.deepEqual(stamps, []);
  assert.deepEqual(scanEvents(b, 30, b.length, stamps), { events: 1, done: true });
});

Deno.test("Tail spots the chunked terminator across reads of any size", () => {
  const body = bytes("5\r\nhello\r\n0\r\n\r\n");
  for (const size of [1, 2, 3, 7, 100]) {
    const tail = new Tail();
    let ended = false, at = -1;
    for (let i = 0; i < body.length && !ended; i += size) {
      ended = tail.push(body, i, Math.min(body.length, i + size));
      at = i;
    }
    assert(ended, `read size ${size}`);
    assert(at + size >= body.length);
  }
  assert.equal(new Tail().push(bytes("data: 0\r\n\r\n"), 0, 11), false);
});

Deno.test("parseHead reads the status and the framing", () => {
  assert.deepEqual(parseHead("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"), {
    length: 55,
    status: 503,
    chunked: false,
  });
  assert.equal(parseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding:  chunked\r\n\r\n")?.chunked, true);
});
