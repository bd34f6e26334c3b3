import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { encodePng, parsePng } from "./png.ts";

// A 1×1 RGBA PNG made by another encoder (the transparent pixel found all over the web).
const FOREIGN =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
const fromBase64 = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const paint = (x: number, y: number) => [x * 4, y * 5, 128] as const;

/** Rewrites the CRC of the chunk at `at` so that only the deliberate damage is left. */
function fixCrc(png: Uint8Array, at: number): void {
  const view = new DataView(png.buffer, png.byteOffset);
  const length = view.getUint32(at);
  view.setUint32(at + 8 + length, crc32(png.subarray(at + 4, at + 8 + length)));
}

Deno.test("encodePng() makes a PNG that Deno's own decoder reads at the right size", async () => {
  const png = encodePng(64, 48, paint);
  assert.deepEqual(parsePng(png), { width: 64, height: 48, bitDepth: 8, colorType: 2, interlaced: false });
  const bitmap = await createImageBitmap(new Blob([png], { type: "image/png" }));
  assert.deepEqual([bitmap.width, bitmap.height], [64, 48]);
});

Deno.test("parsePng() accepts a PNG from another encoder", () => {
  assert.deepEqual(parsePng(fromBase64(FOREIGN)), {
    width: 1,
    height: 1,
    bitDepth: 8,
    colorType: 6,
    interlaced: false,
  });
});

Deno.test("parsePng() refuses text, a flipped bit, a short IDAT, a missing IEND and trailing bytes", () => {
  const good = encodePng(8, 8, paint);
  assert.throws(() => parsePng(new TextEncoder().encode("AUDIO-A-0;AUDIO-A-1;")), /no PNG signature/);
  const flipped = good.slice();
  flipped[45] ^= 1; // inside IDAT's data (IHDR ends at 33, IDAT's data starts at 41)
  assert.throws(() => parsePng(flipped), /chunk IDAT has a bad CRC/);
  const ihdr = good.slice();
  ihdr[24] = 3; // bit depth 3
  fixCrc(ihdr, 8);
  assert.throws(() => parsePng(ihdr), /invalid bit depth 3/);
  const tall = good.slice();
  new DataView(tall.buffer).setUint32(20, 9); // height 9, data for 8 rows
  fixCrc(tall, 8);
  assert.throws(() => parsePng(tall), /IDAT holds 200 bytes, 8x9 needs 225/);
  assert.throws(() => parsePng(good.subarray(0, good.length - 12)), /no IEND chunk/);
  assert.throws(() => parsePng(good.subarray(0, good.length - 3)), /truncated chunk/);
  assert.throws(() => parsePng(Uint8Array.from([...good, 0])), /data after IEND|truncated chunk/);
});

Deno.test("encodePng() rejects sizes outside 1..4096", () => {
  assert.throws(
    () => encodePng(0, 1, paint),
    new RangeError('Cannot encode PNG: "width" must be an integer in [1, 4096], received 0'),
  );
});
