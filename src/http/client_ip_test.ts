import assert from "node:assert/strict";
import { createTrustMatcher, parseIp, resolveClientIp } from "./client_ip.ts";

Deno.test("parseIp() reads IPv4, IPv6 (compressed, zoned, bracketed) and IPv4-mapped IPv6 as IPv4", () => {
  assert.deepEqual(parseIp("10.0.0.1"), { v: 4, value: 0x0a000001n });
  assert.deepEqual(parseIp("::ffff:10.0.0.1"), { v: 4, value: 0x0a000001n });
  assert.deepEqual(parseIp("[::1]"), { v: 6, value: 1n });
  assert.deepEqual(parseIp("fe80::1%eth0"), { v: 6, value: (0xfe80n << 112n) | 1n });
  for (const bad of ["", "1.2.3", "256.1.1.1", "1::2::3", "gggg::1", "1:2:3:4:5:6:7:8:9"]) {
    assert.equal(parseIp(bad), undefined, bad);
  }
});

Deno.test("createTrustMatcher() matches IPv4 and IPv6 CIDRs and single addresses, and rejects bad entries", () => {
  const m = createTrustMatcher(["10.0.0.0/8", "192.168.1.7", "fd00::/8"]);
  assert.ok(m("10.255.0.1") && m("192.168.1.7") && m("fd12::1") && m("::ffff:10.1.1.1"));
  assert.ok(!m("11.0.0.1") && !m("192.168.1.8") && !m("fe80::1") && !m("nonsense"));
  assert.throws(() => createTrustMatcher(["10.0.0.0/33"]), TypeError);
  assert.throws(() => createTrustMatcher(["not-an-ip"]), /Cannot parse trusted proxy "not-an-ip"/);
  assert.equal(createTrustMatcher([])("127.0.0.1"), false);
});

Deno.test("resolveClientIp() takes the right-most untrusted hop, and ignores the header from untrusted peers", () => {
  const trusted = createTrustMatcher(["127.0.0.1", "10.0.0.0/8"]);
  assert.equal(resolveClientIp("127.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2", trusted), "1.2.3.4");
  assert.equal(resolveClientIp("8.8.8.8", "6.6.6.6", trusted), "8.8.8.8");
  assert.equal(resolveClientIp("127.0.0.1", "10.0.0.3, 10.0.0.2", trusted), "10.0.0.3");
  assert.equal(resolveClientIp("127.0.0.1", null, trusted), "127.0.0.1");
});

Deno.test("resolveClientIp() reads a hop written with its port (IPv4 or bracketed IPv6) as the address", () => {
  const trusted = createTrustMatcher(["127.0.0.1", "10.0.0.0/8"]);
  assert.equal(resolveClientIp("127.0.0.1", "1.2.3.4:5678, 10.0.0.2:443", trusted), "1.2.3.4");
  assert.equal(resolveClientIp("127.0.0.1", "[2001:db8::1]:80", trusted), "2001:db8::1");
  assert.equal(resolveClientIp("127.0.0.1", "[2001:db8::2]", trusted), "2001:db8::2");
  assert.equal(resolveClientIp("127.0.0.1", "2001:db8::3", trusted), "2001:db8::3");
});

Deno.test("createTrustMatcher() answers the same when asked again, past its memory of 1,024 addresses", () => {
  const m = createTrustMatcher(["10.0.0.0/24"]);
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 3000; i++) {
      const ip = `10.0.${i % 4}.${i % 250}`;
      assert.equal(m(ip), i % 4 === 0, ip);
    }
  }
});
