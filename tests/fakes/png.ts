/**
 * PNG files for the fake image services: the fake generator draws a small picture as a real PNG
 * (signature, IHDR, zlib-compressed IDAT, IEND, each chunk with its CRC-32), and the fake editor
 * reads one back and refuses anything that is not (PNG spec, ISO/IEC 15948, sections 5 and 11).
 *
 * @module
 */

import { crc32, deflateSync, inflateSync } from "node:zlib";

/** What a PNG file says about itself. */
export interface PngInfo {
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
  readonly colorType: number;
  readonly interlaced: boolean;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
/** Channels per colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA). */
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Readonly<Record<number, readonly number[]>> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

function chunk(type: string, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * An 8-bit RGB PNG of `width` × `height` whose pixel (x, y) is `paint(x, y)` as `[r, g, b]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodePng, parsePng } from "./png.ts";
 * const png = encodePng(4, 2, (x, y) => [x * 60, y * 100, 0]);
 * assert.deepEqual(parsePng(png), { width: 4, height: 2, bitDepth: 8, colorType: 2, interlaced: false });
 * ```
 */
export function encodePng(
  width: number,
  height: number,
  paint: (x: number, y: number) => readonly [number, number, number],
): Uint8Array<ArrayBuffer> {
  for (const [name, v] of [["width", width], ["height", height]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 4096) {
      throw new RangeError(`Cannot encode PNG: "${name}" must be an integer in [1, 4096], received ${v}`);
    }
  }
  const stride = 1 + width * 3;
  const raw = new Uint8Array(stride * height); // filter byte 0 (None) starts each row
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set(paint(x, y), y * stride + 1 + x * 3);
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // depth 8, RGB, deflate, adaptive filtering, no interlace
  const parts = [
    Uint8Array.from(SIGNATURE),
    chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array(0)),
  ];
  return concat(parts);
}

/**
 * Reads a PNG and checks that it is one: signature; every chunk's CRC; IHDR first with a valid
 * size, depth and colour type; PLTE for palette images; consecutive IDATs whose zlib data
 * inflates to exactly the image's scanlines (non-interlaced), each with a valid filter byte; IEND
 * last and empty.
 *
 * @throws {TypeError} naming the first thing that is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePng } from "./png.ts";
 * assert.throws(() => parsePng(new TextEncoder().encode("GIF89a")), /PNG signature/);
 * ```
 */
export function parsePng(bytes: Uint8Array): PngInfo {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new TypeError("no PNG signature");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let info: PngInfo | undefined;
  let palette = false;
  const idat: Uint8Array[] = [];
  let idatDone = false;
  for (let at = 8; at < bytes.length;) {
    if (at + 12 > bytes.length) throw new TypeError("truncated chunk");
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const end = at + 12 + length;
    if (end > bytes.length) throw new TypeError(`chunk ${type} runs past the end of the file`);
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (view.getUint32(at + 8 + length) !== crc32(bytes.subarray(at + 4, at + 8 + length))) {
      throw new TypeError(`chunk ${type} has a bad CRC`);
    }
    if (!info && type !== "IHDR") throw new TypeError("IHDR is not the first chunk");
    if (type === "IHDR") {
      if (info) throw new TypeError("second IHDR");
      info = readHeader(data);
    } else if (type === "PLTE") {
      palette = true;
    } else if (type === "IDAT") {
      if (idatDone) throw new TypeError("IDAT chunks are not consecutive");
      idat.push(data);
    } else if (type === "IEND") {
      if (length !== 0) throw new TypeError("IEND is not empty");
      if (end !== bytes.length) throw new TypeError("data after IEND");
      if (idat.length === 0) throw new TypeError("no IDAT chunk");
      if (info!.colorType === 3 && !palette) throw new TypeError("palette image without PLTE");
      checkScanlines(info!, idat);
      return info!;
    }
    if (idat.length > 0 && type !== "IDAT") idatDone = true;
    at = end;
  }
  throw new TypeError("no IEND chunk");
}

function readHeader(data: Uint8Array): PngInfo {
  if (data.length !== 13) throw new TypeError("IHDR is not 13 bytes");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const [width, height] = [view.getUint32(0), view.getUint32(4)];
  const [bitDepth, colorType, compression, filter, interlace] = data.subarray(8);
  if (width === 0 || height === 0 || width > 2 ** 31 - 1 || height > 2 ** 31 - 1) {
    throw new TypeError(`invalid size ${width}x${height}`);
  }
  if (!DEPTHS[colorType]?.includes(bitDepth)) {
    throw new TypeError(`invalid bit depth ${bitDepth} for colour type ${colorType}`);
  }
  if (compression !== 0 || filter !== 0 || interlace > 1) throw new TypeError("invalid IHDR method byte");
  return { width, height, bitDepth, colorType, interlaced: interlace === 1 };
}

function checkScanlines(info: PngInfo, idat: readonly Uint8Array[]): void {
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(inflateSync(concat(idat)));
  } catch (error) {
    throw new TypeError(`IDAT is not valid zlib data: ${(error as Error).message}`);
  }
  if (info.interlaced) return;
  const stride = 1 + Math.ceil((info.width * CHANNELS[info.colorType] * info.bitDepth) / 8);
  if (raw.length !== stride * info.height) {
    throw new TypeError(
      `IDAT holds ${raw.length} bytes, ${info.width}x${info.height} needs ${stride * info.height}`,
    );
  }
  for (let y = 0; y < info.height; y++) {
    if (raw[y * stride] > 4) throw new TypeError(`row ${y} has an invalid filter type ${raw[y * stride]}`);
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.length);
  return out;
}
