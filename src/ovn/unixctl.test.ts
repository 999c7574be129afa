import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { JsonObjects, UnixctlClient } from "./unixctl.js";

describe("JsonObjects", () => {
  it("splits concatenated objects at any chunk boundary, strings and escapes included", () => {
    const objects = [{ id: 0, result: "a } b { c", error: null }, { id: 1, result: 'say "}" \\ then {', error: null }, { id: 2, error: "x\ny", result: null, extra: [1, { a: [] }] }];
    const text = objects.map((o) => JSON.stringify(o)).join("");
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: text.length }), { maxLength: 12 }), (cuts) => {
        const at = [...new Set(cuts)].sort((a, b) => a - b);
        const s = new JsonObjects();
        const got: string[] = [];
        let from = 0;
        for (const c of [...at, text.length]) {
          got.push(...s.push(text.slice(from, c))!);
          from = c;
        }
        expect(got.map((g) => JSON.parse(g) as unknown)).toEqual(objects);
      }),
    );
  });

  it("refuses an object that grows past its limit", () => {
    const s = new JsonObjects(100);
    expect(s.push('{"result":"')).toEqual([]);
    expect(s.push("x".repeat(80))).toEqual([]);
    expect(s.push("x".repeat(20))).toBeUndefined();
    expect(new JsonObjects(100).push(`{"result":"${"x".repeat(200)}"}`)).toHaveLength(1);
  });
});

describe("UnixctlClient", () => {
  let dir: string | undefined;
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A daemon that answers `echo` with its parameters, `fail` with an error, and `mute` not at all. */
  async function daemon(): Promise<string> {
    dir = mkdtempSync(join(tmpdir(), "ovnsim-unixctl-"));
    const path = join(dir, "d.ctl");
    server = createServer((c: Socket) => {
      const objects = new JsonObjects();
      c.setEncoding("utf8");
      c.on("data", (chunk: string) => {
        for (const text of objects.push(chunk) ?? []) {
          const req = JSON.parse(text) as { method: string; params: string[]; id: number };
          if (req.method === "echo") c.write(JSON.stringify({ id: req.id, result: `${req.params.join(",")}\n`, error: null }));
          else if (req.method === "fail") c.write(JSON.stringify({ id: req.id, result: null, error: "no such thing\n" }));
          else if (req.method === "bye") c.end();
        }
      });
    });
    await new Promise<void>((resolve) => server!.listen(path, resolve));
    return path;
  }

  it("gives each call its own reply, in order", async () => {
    const c = await UnixctlClient.connect(await daemon());
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    const replies = await Promise.all([c.value.call("echo", "a", "b"), c.value.call("echo"), c.value.call("echo", "{}")]);
    expect(replies).toEqual([
      { ok: true, value: "a,b\n" },
      { ok: true, value: "\n" },
      { ok: true, value: "{}\n" },
    ]);
    c.value.close();
  });

  it("turns an error reply, a closed connection and a closed client into diagnostics", async () => {
    const path = await daemon();
    const c = await UnixctlClient.connect(path);
    if (!c.ok) throw new Error("connect");
    const f = await c.value.call("fail", "x");
    expect(f.ok).toBe(false);
    if (!f.ok) expect(f.diags[0]!.message).toBe(`${path}: fail x: no such thing`);
    const bye = await c.value.call("bye");
    expect(bye.ok).toBe(false);
    if (!bye.ok) expect(bye.diags[0]!.message).toContain("the daemon closed the connection");
    const after = await c.value.call("echo");
    expect(after.ok).toBe(false);
    c.value.close();
  });

  it("gives up on a reply that does not come", async () => {
    const path = await daemon();
    const c = await UnixctlClient.connect(path, 50);
    if (!c.ok) throw new Error("connect");
    const r = await c.value.call("mute");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.diags[0]!.message).toBe(`${path}: mute: no reply to mute within 50 ms`);
    c.value.close();
  });

  it("says so when there is no daemon", async () => {
    await daemon();
    const c = await UnixctlClient.connect(join(dir!, "none.ctl"));
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.diags[0]!.message).toMatch(/none\.ctl: .*ENOENT/);
  });
});
