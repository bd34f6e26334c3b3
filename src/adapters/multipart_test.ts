import assert from "node:assert/strict";
import { boundaryOf, formField } from "./multipart.ts";

const enc = new TextEncoder();
const CT = "multipart/form-data; boundary=XyZ";

Deno.test("formField() finds a text field after a file part", () => {
  const body = enc.encode(
    '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n' +
      '\x00\x01name="response_format"\r\nsrt\r\n' +
      '--XyZ\r\nContent-Disposition: form-data; name="response_format"\r\n\r\nverbose_json\r\n--XyZ--\r\n',
  );
  assert.equal(formField(body, CT, "response_format"), "verbose_json");
});

Deno.test("formField() returns undefined when the field or the boundary is missing", () => {
  const body = enc.encode('--XyZ\r\nContent-Disposition: form-data; name="model"\r\n\r\nw\r\n--XyZ--\r\n');
  assert.equal(formField(body, CT, "model"), "w");
  assert.equal(formField(body, CT, "response_format"), undefined);
  assert.equal(formField(body, "application/json", "model"), undefined);
  assert.equal(formField(enc.encode("garbage"), CT, "model"), undefined);
});

Deno.test("boundaryOf() reads quoted and bare boundaries", () => {
  assert.equal(boundaryOf('multipart/form-data; boundary="a b"'), "a b");
  assert.equal(boundaryOf("multipart/form-data; charset=utf-8; boundary=zz"), "zz");
  assert.equal(boundaryOf("multipart/form-data"), undefined);
});
