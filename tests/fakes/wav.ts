/**
 * WAV files for the fake speech services: the fake TTS makes a short tone as a real RIFF/WAVE
 * file (16-bit PCM, mono), and the fake STT reads one back and refuses anything that is not. The
 * layout is the canonical one: a `RIFF` header, a `fmt ` chunk (format 1 = PCM) and a `data`
 * chunk, little-endian throughout.
 *
 * @module
 */

/** What a WAV file says about itself. */
export interface WavInfo {
  readonly sampleRate: number;
  readonly channels: number;
  readonly bitsPerSample: number;
  /** Sample frames in the `data` chunk. */
  readonly frames: number;
  /** Length in seconds. */
  readonly seconds: number;
  /** The dominant frequency of the first channel, from its zero crossings (Hz, rounded). */
  readonly toneHz: number;
}

/** Options of {@linkcode encodeToneWav}. */
export interface ToneOptions {
  readonly hz: number;
  readonly seconds: number;
  /** @default {8000} */
  readonly sampleRate?: number;
}

/**
 * A mono 16-bit PCM WAV of a sine tone at `hz` (8 kHz by default: 0.3 s is under 5 KB).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeToneWav, parseWav } from "./wav.ts";
 * const wav = encodeToneWav({ hz: 440, seconds: 0.25 });
 * assert.equal(parseWav(wav).toneHz, 440);
 * ```
 */
export function encodeToneWav(options: ToneOptions): Uint8Array<ArrayBuffer> {
  const rate = options.sampleRate ?? 8000;
  if (!(options.hz > 0 && options.hz < rate / 2)) {
    throw new RangeError(`Cannot encode WAV: "hz" must be in (0, ${rate / 2}), received ${options.hz}`);
  }
  if (!(options.seconds > 0 && options.seconds <= 60)) {
    throw new RangeError(`Cannot encode WAV: "seconds" must be in (0, 60], received ${options.seconds}`);
  }
  const frames = Math.round(rate * options.seconds);
  const bytes = new Uint8Array(44 + frames * 2);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) bytes[at + i] = s.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, bytes.length - 8, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true);
  ascii(36, "data");
  view.setUint32(40, frames * 2, true);
  for (let i = 0; i < frames; i++) {
    const sample = Math.sin((2 * Math.PI * options.hz * i) / rate) * 0.5 * 0x7fff;
    view.setInt16(44 + i * 2, Math.round(sample), true);
  }
  return bytes;
}

const tag = (bytes: Uint8Array, at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));

/**
 * Reads a PCM WAV file and checks that it is one: RIFF size, a PCM `fmt ` chunk with consistent
 * rates, and a `data` chunk that fits in the file and holds whole frames.
 *
 * @throws {TypeError} naming the first thing that is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWav } from "./wav.ts";
 * assert.throws(() => parseWav(new TextEncoder().encode("ID3 not a wav")), /not a RIFF\/WAVE file/);
 * ```
 */
export function parseWav(bytes: Uint8Array): WavInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || tag(bytes, 0) !== "RIFF" || tag(bytes, 8) !== "WAVE") {
    throw new TypeError("not a RIFF/WAVE file");
  }
  if (view.getUint32(4, true) !== bytes.length - 8) throw new TypeError("RIFF size does not match the file");
  let fmt: { channels: number; rate: number; bits: number } | undefined;
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = tag(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (body + size > bytes.length) throw new TypeError(`chunk "${id}" runs past the end of the file`);
    if (id === "fmt ") {
      if (size < 16 || view.getUint16(body, true) !== 1) throw new TypeError("fmt chunk is not PCM");
      fmt = {
        channels: view.getUint16(body + 2, true),
        rate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
      const align = fmt.channels * fmt.bits / 8;
      if (
        fmt.channels < 1 || fmt.bits % 8 !== 0 || fmt.rate < 1 ||
        view.getUint16(body + 12, true) !== align || view.getUint32(body + 8, true) !== fmt.rate * align
      ) {
        throw new TypeError("fmt chunk is inconsistent");
      }
    } else if (id === "data") {
      if (!fmt) throw new TypeError("data chunk before fmt chunk");
      const align = fmt.channels * fmt.bits / 8;
      if (size % align !== 0) throw new TypeError("data chunk does not hold whole frames");
      const frames = size / align;
      return {
        sampleRate: fmt.rate,
        channels: fmt.channels,
        bitsPerSample: fmt.bits,
        frames,
        seconds: frames / fmt.rate,
        toneHz: fmt.bits === 16 ? toneOf(view, body, frames, align, fmt.rate) : 0,
      };
    }
    at = body + size + (size & 1);
  }
  throw new TypeError("no data chunk");
}

/** Cycles per second of the first channel, measured between its first and last upward zero crossing. */
function toneOf(view: DataView, start: number, frames: number, align: number, rate: number): number {
  let first = -1;
  let last = -1;
  let cycles = 0;
  let prev = view.getInt16(start, true);
  for (let i = 1; i < frames; i++) {
    const s = view.getInt16(start + i * align, true);
    if (prev < 0 && s >= 0) {
      if (first < 0) first = i;
      else cycles++;
      last = i;
    }
    prev = s;
  }
  return cycles > 0 ? Math.round((cycles * rate) / (last - first)) : 0;
}
