import assert from "node:assert/strict";
import { encodeToneWav, parseWav } from "./wav.ts";

// 10 ms of a 1 kHz tone, 16-bit stereo at 16 kHz, written by Python's standard `wave` module
// (another encoder): wave.open(f, "wb"), setnchannels(2), setsampwidth(2), setframerate(16000).
const FOREIGN = new URL("./testdata/python_wave_stereo_1khz.wav", import.meta.url);

Deno.test("encodeToneWav() writes the canonical 44-byte header of 16-bit mono PCM", () => {
  const wav = encodeToneWav({ hz: 660, seconds: 0.3 });
  const view = new DataView(wav.buffer);
  const text = (at: number) => new TextDecoder().decode(wav.subarray(at, at + 4));
  assert.deepEqual([text(0), text(8), text(12), text(36)], ["RIFF", "WAVE", "fmt ", "data"]);
  assert.equal(view.getUint32(4, true), wav.length - 8);
  assert.deepEqual(
    [view.getUint16(20, true), view.getUint16(22, true), view.getUint32(24, true), view.getUint16(34, true)],
    [1, 1, 8000, 16],
  );
  assert.equal(view.getUint32(40, true), 4800);
  assert.equal(wav.length, 44 + 4800);
});

Deno.test("parseWav() hears the tone encodeToneWav() made, and one Python's wave module made", async () => {
  for (const hz of [440, 523, 660]) {
    assert.deepEqual(parseWav(encodeToneWav({ hz, seconds: 0.3 })), {
      sampleRate: 8000,
      channels: 1,
      bitsPerSample: 16,
      frames: 2400,
      seconds: 0.3,
      toneHz: hz,
    });
  }
  assert.deepEqual(parseWav(await Deno.readFile(FOREIGN)), {
    sampleRate: 16000,
    channels: 2,
    bitsPerSample: 16,
    frames: 160,
    seconds: 0.01,
    toneHz: 1000,
  });
});

Deno.test("parseWav() refuses text, a wrong RIFF size, a non-PCM format and a short data chunk", () => {
  const good = encodeToneWav({ hz: 440, seconds: 0.05 });
  assert.throws(() => parseWav(new TextEncoder().encode("AUDIO-A-0;AUDIO-A-1;")), /not a RIFF\/WAVE file/);
  assert.throws(() => parseWav(good.subarray(0, good.length - 2)), /RIFF size does not match/);
  const float = good.slice();
  new DataView(float.buffer).setUint16(20, 3, true);
  assert.throws(() => parseWav(float), /fmt chunk is not PCM/);
  const odd = good.slice();
  const view = new DataView(odd.buffer);
  view.setUint32(40, view.getUint32(40, true) + 1, true);
  assert.throws(() => parseWav(odd), /chunk "data" runs past the end/);
  const rate = good.slice();
  new DataView(rate.buffer).setUint32(28, 1234, true);
  assert.throws(() => parseWav(rate), /fmt chunk is inconsistent/);
});

Deno.test("encodeToneWav() rejects a tone above Nyquist and a non-positive length", () => {
  assert.throws(
    () => encodeToneWav({ hz: 5000, seconds: 1 }),
    new RangeError('Cannot encode WAV: "hz" must be in (0, 4000), received 5000'),
  );
  assert.throws(() => encodeToneWav({ hz: 440, seconds: 0 }), RangeError);
});
