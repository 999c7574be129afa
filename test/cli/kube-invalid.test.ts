/**
 * Invalid Kube-OVN manifests through the CLI (the acceptance list): an unknown kind or
 * version; subnet CIDRs that overlap within one VPC; a gateway outside the CIDR; a pinned pod IP
 * inside excludeIps or outside its subnet; a ProviderNetwork name longer than 12 characters; a
 * DNAT to an IP that no pod has (OvnDnatRule and IptablesDnatRule). Each case writes manifests to
 * a temporary directory (a valid docs scenario copied there, where the case needs one, plus one
 * bad file), runs `ovnsim trace` or `ovnsim export` on it once, and expects exit 2 and exactly one
 * stderr line per problem: `ovnsim: FILE:LINE:COL: error: Kind/name: ...`, LINE being the line
 * where the offending document starts (found in the text written here, not in ovnsim's output).
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIo } from "../../src/cli/io.js";
import { run } from "../../src/cli/main.js";

const ROOT = resolve(import.meta.dirname, "../..");
const DOCS = join(ROOT, "scenarios/kube-ovn");
const tmp = mkdtempSync(join(tmpdir(), "ovnsim-kube-invalid-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function ovnsim(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo();
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

const NODES = `apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 192.168.0.11}]}
`;

interface Case {
  /** A docs scenario to copy into the directory first, if any. */
  readonly base?: string;
  /** The bad file's documents (joined with `---`). */
  readonly docs: readonly string[];
  readonly command: "trace" | "export";
  /** Per expected line, in order: a line of the offending document (its start is found from it) and the message. */
  readonly expect: readonly { readonly starts: string; readonly message: RegExp }[];
}

const CASES: Record<string, Case> = {
  "an unknown kind and an unknown version": {
    docs: [`kind: Deployment\napiVersion: apps/v1\nmetadata: {name: web}\n`, `kind: Subnet\napiVersion: kubeovn.io/v2\nmetadata: {name: vmservers}\nspec: {cidrBlock: 10.1.0.0/24}\n`],
    command: "trace",
    expect: [
      { starts: "kind: Deployment", message: /Deployment\/web: unknown kind Deployment of apiVersion apps\/v1/ },
      { starts: "kind: Subnet", message: /Subnet\/vmservers: kind Subnet is kubeovn\.io\/v1, not kubeovn\.io\/v2/ },
    ],
  },
  "subnet CIDRs that overlap within one VPC": {
    docs: [`kind: Subnet\napiVersion: kubeovn.io/v1\nmetadata: {name: s1}\nspec: {cidrBlock: 10.1.0.0/16}\n`, `kind: Subnet\napiVersion: kubeovn.io/v1\nmetadata: {name: vmservers}\nspec: {cidrBlock: 10.1.2.0/24}\n`],
    command: "export",
    expect: [{ starts: "metadata: {name: vmservers}", message: /Subnet\/vmservers: cidrBlock 10\.1\.2\.0\/24 overlaps Subnet\/s1's 10\.1\.0\.0\/16 in VPC ovn-cluster/ }],
  },
  "a gateway outside the CIDR": {
    docs: [`kind: Subnet\napiVersion: kubeovn.io/v1\nmetadata: {name: vmservers}\nspec: {cidrBlock: 10.1.0.0/24, gateway: 10.2.0.1}\n`],
    command: "trace",
    expect: [{ starts: "kind: Subnet", message: /Subnet\/vmservers: gateway 10\.2\.0\.1 is outside cidrBlock 10\.1\.0\.0\/24/ }],
  },
  "a pinned pod IP inside excludeIps, another outside its subnet": {
    docs: [
      `kind: Subnet\napiVersion: kubeovn.io/v1\nmetadata: {name: vmservers}\nspec: {cidrBlock: 10.1.0.0/24, excludeIps: [10.1.0.2..10.1.0.9], namespaces: [ns1]}\n`,
      `kind: Pod\napiVersion: v1\nmetadata: {name: excluded, namespace: ns1, annotations: {ovn.kubernetes.io/ip_address: 10.1.0.5}}\nspec: {nodeName: n1}\n`,
      `kind: Pod\napiVersion: v1\nmetadata: {name: outside, namespace: ns1, annotations: {ovn.kubernetes.io/ip_address: 10.9.0.5}}\nspec: {nodeName: n1}\n`,
    ],
    command: "export",
    expect: [
      { starts: "metadata: {name: excluded", message: /Pod\/ns1\/excluded: ip_address 10\.1\.0\.5 is in Subnet\/vmservers's excludeIps/ },
      { starts: "metadata: {name: outside", message: /Pod\/ns1\/outside: ip_address 10\.9\.0\.5 is outside Subnet\/vmservers \(10\.1\.0\.0\/24\)/ },
    ],
  },
  "a ProviderNetwork name longer than 12 characters": {
    docs: [`kind: ProviderNetwork\napiVersion: kubeovn.io/v1\nmetadata: {name: provider-network1}\nspec: {defaultInterface: eth1}\n`],
    command: "trace",
    expect: [{ starts: "kind: ProviderNetwork", message: /ProviderNetwork\/provider-network1: the name is 17 characters long; Kube-OVN allows at most 12/ }],
  },
  "an OvnDnatRule to an IP that no pod has": {
    base: "ovn-eip-fip",
    docs: [
      `kind: OvnEip\napiVersion: kubeovn.io/v1\nmetadata: {name: eip-bad}\nspec: {externalSubnet: external204, type: nat}\n`,
      `kind: OvnDnatRule\napiVersion: kubeovn.io/v1\nmetadata: {name: dnat-bad}\nspec: {ovnEip: eip-bad, vpc: vpc1, v4Ip: 192.168.0.99, protocol: tcp, internalPort: "80", externalPort: "8080"}\n`,
    ],
    command: "export",
    expect: [{ starts: "kind: OvnDnatRule", message: /OvnDnatRule\/dnat-bad: v4Ip 192\.168\.0\.99: no pod of VPC vpc1 has that address/ }],
  },
  "an IptablesDnatRule to an IP that no pod has": {
    base: "vpc-nat-gateway",
    docs: [`kind: IptablesDnatRule\napiVersion: kubeovn.io/v1\nmetadata: {name: dnat-bad}\nspec: {eip: eip-dnat, externalPort: "9999", protocol: tcp, internalIp: 10.0.1.99, internalPort: "80"}\n`],
    command: "trace",
    expect: [{ starts: "kind: IptablesDnatRule", message: /IptablesDnatRule\/dnat-bad: .*10\.0\.1\.99/ }],
  },
};

describe("invalid manifests: exit 2, one line per problem naming the resource, file:line:col", () => {
  it.each(Object.entries(CASES))("%s", async (name, c) => {
    const dir = join(tmp, name.replace(/\W+/g, "-"));
    if (c.base) cpSync(join(DOCS, c.base), dir, { recursive: true });
    else {
      mkdirSync(dir);
      writeFileSync(join(dir, "00-nodes.yaml"), NODES);
    }
    const text = c.docs.join("---\n");
    const bad = join(dir, "99-bad.yaml");
    writeFileSync(bad, text);
    const lines = text.split("\n");
    const args = c.command === "trace" ? ["trace", dir, "--from", "pod/default/nobody", "--to", "1.1.1.1"] : ["export", dir, "--format", "nbctl"];
    const r = await ovnsim(args);
    expect(r.code, r.err).toBe(2);
    expect(r.out).toBe("");
    const got = r.err.trimEnd().split("\n");
    expect(got, r.err).toHaveLength(c.expect.length);
    c.expect.forEach((e, i) => {
      // The offending document starts right after the `---` above the line that identifies it.
      const named = lines.findIndex((l) => l.startsWith(e.starts));
      expect(named, e.starts).toBeGreaterThanOrEqual(0);
      let start = named;
      while (start > 0 && lines[start - 1] !== "---") start--;
      expect(got[i]).toMatch(new RegExp(`^ovnsim: ${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${start + 1}:1: error: `));
      expect(got[i]).toMatch(e.message);
    });
  });
});
