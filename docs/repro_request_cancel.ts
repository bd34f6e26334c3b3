/**
 * Deno 2.9: `request.signal` of `Deno.serve` does not abort when the client closes its connection
 * while the handler is still working on the answer — unless the whole request (head and body) was
 * small, about 512 bytes or less. An OpenAI SDK request carries a ~460-byte head, so for it, and
 * for any chat with a real prompt, the gateway is not told that the client left until it writes
 * the answer: a whole (non-streamed) answer's upstream call runs on until the backend answers or a
 * timeout cuts it. A stream is noticed at its first write after the client left. Deno tracks
 * "cancellation in the request phase" as denoland/deno#21653.
 *
 * Run: `deno run -A docs/repro_request_cancel.ts`. For each request size, a raw TCP client sends
 * the request, closes the connection 300 ms later, and the line says whether the handler's signal
 * aborted. Expected: every line says "aborted".
 *
 * @module
 */

const noticed = new Map<string, number>();
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
  const id = req.headers.get("x-id")!;
  const t0 = performance.now();
  req.signal.addEventListener("abort", () => noticed.set(id, Math.round(performance.now() - t0)));
  await req.bytes();
  await new Promise((r) => setTimeout(r, 1500)); // generating a long answer
  return new Response("done");
});

async function abandon(headBytes: number, bodyBytes: number): Promise<void> {
  const id = `${headBytes}+${bodyBytes}`;
  const body = "x".repeat(bodyBytes);
  let head = `POST / HTTP/1.1\r\nhost: 127.0.0.1\r\nx-id: ${id}\r\ncontent-length: ${bodyBytes}\r\n`;
  head += `x-pad: ${"a".repeat(Math.max(0, headBytes - head.length - 11))}\r\n\r\n`;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  await conn.write(new TextEncoder().encode(head + body));
  await new Promise((r) => setTimeout(r, 300));
  conn.close(); // the client leaves
  await new Promise((r) => setTimeout(r, 500));
  const ms = noticed.get(id);
  console.log(
    `head ${head.length} B + body ${bodyBytes} B:`,
    ms === undefined ? "NOT aborted" : `aborted after ${ms} ms`,
  );
}

for (const [head, body] of [[200, 100], [200, 400], [460, 60], [460, 2000], [1000, 5000]]) {
  await abandon(head, body);
}
await server.shutdown();
