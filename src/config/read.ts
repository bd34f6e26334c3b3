/**
 * Reading configuration files with a size cap: at most `maxBytes` are read, so a 50 MB file (or
 * `/dev/zero`) is refused after 1 MiB instead of being loaded whole and then parsed for a minute.
 *
 * @module
 */

/**
 * Reads the configuration file at `path` (absolute, or relative to the working directory): its
 * text, or `undefined` when it does not exist. Throws {@linkcode TooLargeError} when it holds more
 * than `maxBytes` bytes, and the file system's error for anything else.
 */
export type ReadSource = (path: string, maxBytes: number) => string | undefined;

/** A file larger than the bytes the configuration had left. */
export class TooLargeError extends RangeError {
  /** Always `"TooLargeError"`. */
  override name = "TooLargeError";
  /** The bytes that were allowed. */
  readonly maxBytes: number;

  /** An error for a file of more than `maxBytes` bytes. */
  constructor(path: string, maxBytes: number) {
    super(`${path} is larger than ${maxBytes} bytes`);
    this.maxBytes = maxBytes;
  }
}

/**
 * Reads at most `maxBytes` bytes of `path` and decodes them as UTF-8.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readBoundedSync, TooLargeError } from "./read.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.yml`, "model: {}\n");
 * assert.equal(readBoundedSync(`${dir}/a.yml`, 100), "model: {}\n");
 * assert.equal(readBoundedSync(`${dir}/missing.yml`, 100), undefined);
 * assert.throws(() => readBoundedSync(`${dir}/a.yml`, 4), TooLargeError);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function readBoundedSync(path: string, maxBytes: number): string | undefined {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    // One byte more than allowed tells "exactly at the limit" from "over it".
    const buffer = new Uint8Array(Math.min(maxBytes + 1, 64 * 1024));
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const n = file.readSync(buffer);
      if (n === null) break;
      total += n;
      if (total > maxBytes) throw new TooLargeError(path, maxBytes);
      chunks.push(buffer.slice(0, n));
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return new TextDecoder().decode(bytes);
  } finally {
    file.close();
  }
}

/** The UTF-8 size of `text` in bytes, without encoding it. */
export function byteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
