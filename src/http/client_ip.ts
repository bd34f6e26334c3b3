/**
 * The client's IP: the socket peer, unless that peer is a configured trusted proxy, in which case
 * the right-most address of `X-Forwarded-For` that is not itself trusted (the left-most entries
 * are client-controlled and can be forged).
 *
 * @module
 */

type Parsed = { v: 4 | 6; value: bigint };

/** Addresses whose trust decision a matcher remembers. */
const MEMO_SIZE = 1024;

function parseV4(ip: string): bigint | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}

function parseV6(ip: string): bigint | undefined {
  const zone = ip.indexOf("%");
  if (zone >= 0) ip = ip.slice(0, zone);
  const halves = ip.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  // An embedded IPv4 tail ("::ffff:1.2.3.4") counts as two groups.
  const last = (tail.length ? tail : head).at(-1);
  const v4 = last?.includes(".") ? parseV4(last) : undefined;
  if (last?.includes(".")) {
    if (v4 === undefined) return undefined;
    (tail.length ? tail : head).splice(
      -1,
      1,
      ((v4 >> 16n) & 0xffffn).toString(16),
      (v4 & 0xffffn).toString(16),
    );
  }
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0 || (halves.length === 1 && head.length !== 8)) return undefined;
  let n = 0n;
  for (const g of [...head, ...Array(fill).fill("0"), ...tail]) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return n;
}

/** Parses an IPv4 or IPv6 address; IPv4-mapped IPv6 becomes IPv4. */
export function parseIp(ip: string): Parsed | undefined {
  const trimmed = ip.trim().replace(/^\[|\]$/g, "");
  const v4 = parseV4(trimmed);
  if (v4 !== undefined) return { v: 4, value: v4 };
  const v6 = parseV6(trimmed);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { v: 4, value: v6 & 0xffffffffn };
  return { v: 6, value: v6 };
}

/**
 * Compiles a list of IPs / CIDRs into a membership test. Throws `TypeError` on a malformed entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTrustMatcher } from "./client_ip.ts";
 * const trusted = createTrustMatcher(["10.0.0.0/8", "::1"]);
 * assert(trusted("10.1.2.3") && trusted("::1") && !trusted("192.168.0.1"));
 * ```
 */
export function createTrustMatcher(entries: readonly string[]): (ip: string) => boolean {
  const nets = entries.map((entry) => {
    const [addr, bitsText] = entry.split("/");
    const parsed = parseIp(addr);
    if (!parsed) throw new TypeError(`Cannot parse trusted proxy "${entry}": not an IP address or CIDR`);
    const width = parsed.v === 4 ? 32 : 128;
    const bits = bitsText === undefined ? width : Number(bitsText);
    if (!Number.isInteger(bits) || bits < 0 || bits > width) {
      throw new TypeError(`Cannot parse trusted proxy "${entry}": prefix must be 0..${width}`);
    }
    const shift = BigInt(width - bits);
    return { v: parsed.v, shift, prefix: parsed.value >> shift };
  });
  if (nets.length === 0) return () => false;
  // The peer is nearly always one of a few addresses: remember answers (bounded, since
  // `X-Forwarded-For` entries are client-controlled strings).
  const memo = new Map<string, boolean>();
  return (ip: string) => {
    let trusted = memo.get(ip);
    if (trusted === undefined) {
      const p = parseIp(ip);
      trusted = p !== undefined && nets.some((n) => n.v === p.v && p.value >> n.shift === n.prefix);
      if (memo.size >= MEMO_SIZE) memo.clear();
      memo.set(ip, trusted);
    }
    return trusted;
  };
}

/**
 * Resolves the client IP from the socket peer and `X-Forwarded-For`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTrustMatcher, resolveClientIp } from "./client_ip.ts";
 * const trusted = createTrustMatcher(["127.0.0.1"]);
 * assert(resolveClientIp("127.0.0.1", "1.1.1.1, 2.2.2.2", trusted) === "2.2.2.2");
 * assert(resolveClientIp("9.9.9.9", "1.1.1.1", trusted) === "9.9.9.9");
 * ```
 */
export function resolveClientIp(
  peer: string,
  forwardedFor: string | null,
  trusted: (ip: string) => boolean,
): string {
  if (!forwardedFor || !trusted(peer)) return peer;
  const hops = forwardedFor.split(",").map(hopAddress).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!trusted(hops[i])) return hops[i];
  }
  return hops[0] ?? peer;
}

const BRACKETED = /^\[([^\]]+)\](?::\d+)?$/;
const IPV4_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/;

/**
 * A hop's address as proxies write it: `1.2.3.4`, `1.2.3.4:5678` (some gateways add the client's
 * port), `[2001:db8::1]:80` or `[2001:db8::1]` — so one client is one key to the limits.
 */
function hopAddress(hop: string): string {
  const h = hop.trim();
  return BRACKETED.exec(h)?.[1] ?? IPV4_PORT.exec(h)?.[1] ?? h;
}
