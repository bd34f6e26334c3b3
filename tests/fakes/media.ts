/**
 * The audio and image services of the fake OpenAI-compatible upstream, with real files: speech is
 * a WAV tone (each upstream has its own pitch), transcription reads a WAV back and says what it
 * heard, image generation draws a PNG and image editing takes PNGs. Each checks what it is sent
 * is what it claims to be and answers a 400 in OpenAI's error shape otherwise — so the README's
 * "speak, then transcribe; draw, then edit" works as written, and an 80-byte text file does not
 * pass for audio.
 *
 * Deliberate differences from OpenAI, to stay small: speech is `wav` (the default here) or raw
 * `pcm`, never mp3; images come back as `b64_json` only.
 *
 * @module
 */

import { encodePng, parsePng, type PngInfo } from "./png.ts";
import { encodeToneWav, parseWav } from "./wav.ts";

/** What the media handlers need from the fake that hosts them. */
export interface MediaHost {
  /** The upstream's name, which every answer carries. */
  readonly name: string;
  /** Parts a streamed answer is cut into. */
  readonly parts: number;
  json(body: unknown, status?: number): Response;
  /** A streamed body of `parts` (honouring the fake's chunk delay and abort accounting). */
  stream(parts: Uint8Array[], contentType: string, signal: AbortSignal): Response;
}

const DEFAULT_SIZE = { width: 64, height: 64 };
const SIZE = /^(\d{1,4})x(\d{1,4})$/;

/** A 400 in OpenAI's error shape. */
function invalid(host: MediaHost, message: string, param: string, code = "invalid_value"): Response {
  return host.json({ error: { message, type: "invalid_request_error", param, code } }, 400);
}

/** A small deterministic number from a string (FNV-1a), for pitches and colours. */
function hashOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Each upstream sings its own note (A4 up to A5 in semitones), so a transcript tells who spoke. */
export function toneOf(name: string): number {
  return Math.round(440 * 2 ** ((hashOf(name) % 12) / 12));
}

/** `POST /v1/audio/speech`: a WAV tone of 0.2 s plus 0.05 s a word (at most 2 s), streamed. */
export function speech(host: MediaHost, body: Record<string, unknown>, signal: AbortSignal): Response {
  const format = body.response_format ?? "wav";
  if (format !== "wav" && format !== "pcm") {
    return invalid(
      host,
      `this fake upstream speaks wav or pcm, not ${JSON.stringify(format)}`,
      "response_format",
    );
  }
  if (typeof body.input !== "string" || body.input.trim() === "") {
    return invalid(host, "input must be a non-empty string", "input");
  }
  const words = Math.min(body.input.trim().split(/\s+/).length, 36);
  const wav = encodeToneWav({ hz: toneOf(host.name), seconds: 0.2 + 0.05 * words });
  const bytes = format === "wav" ? wav : wav.subarray(44);
  const step = Math.ceil(bytes.length / host.parts);
  const parts = Array.from({ length: host.parts }, (_, i) => bytes.subarray(i * step, (i + 1) * step));
  return host.stream(parts.filter((p) => p.length > 0), format === "wav" ? "audio/wav" : "audio/pcm", signal);
}

/** `POST /v1/audio/transcriptions`: says how long the WAV is and which note it holds. */
export async function transcription(host: MediaHost, form: FormData): Promise<Response> {
  const file = form.get("file");
  if (!(file instanceof File)) return invalid(host, "file is required", "file", "missing_required_parameter");
  let heard;
  try {
    heard = parseWav(new Uint8Array(await file.arrayBuffer()));
  } catch (error) {
    return invalid(
      host,
      `${file.name} is not a valid WAV file (${(error as Error).message})`,
      "file",
      "invalid_file_format",
    );
  }
  const text = `${host.name} heard ${
    heard.seconds.toFixed(2)
  } s of a ${heard.toneHz} Hz tone in ${file.name}`;
  const format = form.get("response_format") ?? "json";
  if (format === "text") return new Response(text, { headers: { "content-type": "text/plain" } });
  if (format === "verbose_json") return host.json({ task: "transcribe", duration: heard.seconds, text });
  if (format !== "json") return invalid(host, `unsupported response_format ${format}`, "response_format");
  return host.json({ text });
}

/** Background from the prompt, a disc in the upstream's colour: flat areas, a few hundred bytes. */
function draw(host: MediaHost, prompt: string, size: { width: number; height: number }): string {
  const p = hashOf(prompt);
  const u = hashOf(host.name);
  const bg = [p & 255, (p >> 8) & 255, (p >> 16) & 255] as const;
  const fg = [u & 255, (u >> 8) & 255, (u >> 16) & 255] as const;
  const { width, height } = size;
  const r2 = (Math.min(width, height) / 3) ** 2;
  const png = encodePng(
    width,
    height,
    (x, y) => (x - width / 2) ** 2 + (y - height / 2) ** 2 <= r2 ? fg : bg,
  );
  let text = "";
  for (let i = 0; i < png.length; i += 0x8000) text += String.fromCharCode(...png.subarray(i, i + 0x8000));
  return btoa(text);
}

/** Reads `size` ("WxH", each 1..1024); undefined when absent, a Response when invalid. */
function sizeOf(host: MediaHost, value: unknown): { width: number; height: number } | Response | undefined {
  if (value === undefined || value === null || value === "auto") return undefined;
  const m = typeof value === "string" ? SIZE.exec(value) : null;
  const [width, height] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (width < 1 || height < 1 || width > 1024 || height > 1024) {
    return invalid(
      host,
      `size must be WIDTHxHEIGHT within 1024x1024, received ${JSON.stringify(value)}`,
      "size",
    );
  }
  return { width, height };
}

function images(host: MediaHost, prompt: string, n: number, size: { width: number; height: number }) {
  return host.json({
    created: 0,
    data: Array.from({ length: n }, (_, i) => ({
      b64_json: draw(host, n > 1 ? `${prompt}#${i}` : prompt, size),
      revised_prompt: `${host.name}: ${prompt}`,
    })),
  });
}

/** Checks `n`, `response_format` and `prompt` shared by generations and edits. */
function common(host: MediaHost, prompt: unknown, n: unknown, format: unknown): Response | number {
  if (format !== undefined && format !== null && format !== "b64_json") {
    return invalid(host, "this fake upstream returns response_format b64_json only", "response_format");
  }
  if (typeof prompt !== "string" || prompt === "") return invalid(host, "prompt is required", "prompt");
  const count = n === undefined || n === null ? 1 : Number(n);
  return Number.isInteger(count) && count >= 1 && count <= 4
    ? count
    : invalid(host, `n must be 1..4, received ${n}`, "n");
}

/** `POST /v1/images/generations`: `n` PNGs of `size` (64x64 by default). */
export function generation(host: MediaHost, body: Record<string, unknown>): Response {
  const n = common(host, body.prompt, body.n, body.response_format);
  if (n instanceof Response) return n;
  const size = sizeOf(host, body.size);
  if (size instanceof Response) return size;
  return images(host, String(body.prompt), n, size ?? DEFAULT_SIZE);
}

/** `POST /v1/images/edits`: every `image` (or `image[]`) and the `mask` must be PNGs; same size out. */
export async function edit(host: MediaHost, form: FormData): Promise<Response> {
  const n = common(
    host,
    form.get("prompt") ?? undefined,
    form.get("n") ?? undefined,
    form.get("response_format") ?? undefined,
  );
  if (n instanceof Response) return n;
  const uploads = [...form.getAll("image"), ...form.getAll("image[]")];
  if (uploads.length === 0) return invalid(host, "image is required", "image", "missing_required_parameter");
  const infos: PngInfo[] = [];
  for (
    const [param, part] of [...uploads.map((u) => ["image", u] as const), ["mask", form.get("mask")] as const]
  ) {
    if (part === null) continue;
    if (!(part instanceof File)) return invalid(host, `${param} must be a file`, param);
    try {
      infos.push(parsePng(new Uint8Array(await part.arrayBuffer())));
    } catch (error) {
      return invalid(
        host,
        `${part.name} is not a valid PNG (${(error as Error).message})`,
        param,
        "invalid_image_format",
      );
    }
  }
  const first = infos[0];
  if (infos.some((i) => i.width !== first.width || i.height !== first.height)) {
    return invalid(host, "image and mask must have the same dimensions", "mask");
  }
  const size = sizeOf(host, form.get("size") ?? undefined);
  if (size instanceof Response) return size;
  return images(host, String(form.get("prompt")), n, size ?? first);
}
