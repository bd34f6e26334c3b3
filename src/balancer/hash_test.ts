import assert from "node:assert/strict";
import { createHasher, fnv1a32, hash32, HASH_ALGORITHMS, mix32 } from "./hash.ts";
import { mulberry32 } from "./_testing.ts";
import type { HashAlgorithm } from "../types.ts";

/** Byte-wise reference FNV-1a over TextEncoder's UTF-8. */
function referenceFnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

Deno.test("fnv1a32() matches the published FNV-1a 32-bit test vectors", () => {
  assert.equal(fnv1a32(""), 0x811c9dc5);
  assert.equal(fnv1a32("a"), 0xe40c292c);
  assert.equal(fnv1a32("foobar"), 0xbf9cf968);
});

Deno.test("fnv1a32() hashes the UTF-8 bytes, surrogate pairs and lone surrogates as TextEncoder does", () => {
  const rnd = mulberry32(5);
  const alphabet = [
    "a",
    "Z",
    "0",
    ".",
    "é",
    "ß",
    "中",
    "用",
    "🙂",
    "𝄞",
    "\ud800",
    "\udfff",
    "\u07ff",
    "\uffff",
  ];
  for (let i = 0; i < 2000; i++) {
    let s = "";
    const len = Math.floor(rnd() * 12);
    for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    assert.equal(fnv1a32(s), referenceFnv1a(s), JSON.stringify(s));
  }
});

Deno.test("createHasher() takes the first 32 bits, big-endian, of md5 / sha1 / sha256", () => {
  const expected: Record<Exclude<HashAlgorithm, "fnv1a">, [number, number]> = {
    md5: [0xd41d8cd9, 0x90015098], // d41d8cd9…, 900150983cd24fb0…
    sha1: [0xda39a3ee, 0xa9993e36], // da39a3ee…, a9993e364706816a…
    sha256: [0xe3b0c442, 0xba7816bf], // e3b0c442…, ba7816bf8f01cfea…
  };
  for (const [algorithm, [empty, abc]] of Object.entries(expected)) {
    const h = createHasher(algorithm as HashAlgorithm);
    assert.equal(h(""), empty, algorithm);
    assert.equal(h("abc"), abc, algorithm);
  }
});

Deno.test("every hash algorithm returns an unsigned 32-bit integer and is deterministic", () => {
  for (const algorithm of HASH_ALGORITHMS) {
    for (const input of ["", "10.0.0.1", "用户", "x".repeat(1000)]) {
      const h = hash32(algorithm, input);
      assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff, `${algorithm}(${input}) = ${h}`);
      assert.equal(hash32(algorithm, input), h);
    }
  }
});

Deno.test("createHasher() rejects an unknown algorithm with a RangeError naming the choices", () => {
  assert.throws(
    () => createHasher("crc32" as HashAlgorithm),
    (e: unknown) => e instanceof RangeError && e.message.includes("fnv1a, md5, sha1, sha256"),
  );
});

Deno.test("mix32() is a bijection on a sample and flips about half the bits per input bit", () => {
  const seen = new Set<number>();
  for (let i = 0; i < 100_000; i++) seen.add(mix32(i));
  assert.equal(seen.size, 100_000);
  let flips = 0;
  for (let i = 0; i < 1000; i++) {
    for (let bit = 0; bit < 32; bit++) {
      let x = (mix32(i) ^ mix32(i ^ (1 << bit))) >>> 0;
      while (x) {
        flips += x & 1;
        x >>>= 1;
      }
    }
  }
  const average = flips / (1000 * 32);
  assert.ok(average > 15 && average < 17, `average flipped bits ${average}`);
});
