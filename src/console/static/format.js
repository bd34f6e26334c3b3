// Number and time formatting for the console (no library does this small job better).

/** Requests or tokens per second: 0, 0.3, 12, 1.2k. */
export function rate(n) {
  if (!n) return "0";
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  return n >= 10 ? n.toFixed(0) : n.toFixed(1);
}

/** Milliseconds: "–" when unknown. */
export function ms(v) {
  if (v === undefined || v === null) return "–";
  return v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
}

/** Bytes in MB (memory): "152 MB", "1.2 GB". */
export function mb(bytes) {
  if (bytes === undefined || bytes === null) return "–";
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}

/** A ratio as a percentage: "–" without requests. */
export function pct(r) {
  if (r === undefined || r === null) return "–";
  return `${(r * 100).toFixed(r < 0.1 ? 1 : 0)}%`;
}

/** Uptime in the largest two units. */
export function uptime(s) {
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m ${s % 60}s`;
}

/** A wall-clock time (local, seconds). */
export function clock(t) {
  return new Date(t).toLocaleTimeString([], { hour12: false });
}

/** The service names as the OpenAI paths call them. */
export const SERVICE_TITLES = {
  chat: "Chat",
  embedding: "Embeddings",
  rerank: "Rerank",
  tts: "Text to speech",
  stt: "Speech to text",
  imgGen: "Image generation",
  imgEdit: "Image editing",
};
