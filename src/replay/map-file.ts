/**
 * Mapping files: `replay --map FILE` and `replay --save-map FILE`.
 *
 * A mapping file says, by name, what `--map auto` would otherwise decide by hash (map.ts): which
 * pod each trace host becomes, and which endpoint each trace server becomes. `--save-map` writes
 * the choices of a replay's plan in this form, so a mapping can be saved, edited and replayed.
 * A file of `--save-map` replayed with `--map` gives the same plan, and so the same replay.
 *
 * ```yaml
 * ovnsimMap: 1
 * hosts:                       # trace address: pod (logical switch port)
 *   192.168.1.10: web-1.default
 *   "[2001:db8::5]": web-2.default
 * servers:                     # trace server: pod NAME | service NAME | external ADDRESS
 *   "10.0.0.5:443/tcp": pod web-3.default
 *   "8.8.8.8:53/udp": service cluster-udp-loadbalancer 10.96.0.20:53
 *   "10.0.0.6 icmp": external 198.18.0.1           # a server without ports, by protocol
 *   "[2001:db8::6] proto 58": pod web-3.default     # ICMPv6, and other protocols, by number
 *   "10.0.0.7": pod web-2.default                  # every port and protocol of an address
 *   "192.168.1.10 -> 10.0.0.5:443/tcp": pod web-2.default   # for one client host only
 * unlisted: auto               # auto (default): as --map auto; unmapped: not replayed
 * ```
 *
 * Keys are written as `--save-map` writes them: IPv4 dotted, IPv6 in brackets (either form is
 * read), protocols by name (tcp, udp, sctp, icmp) or as `proto N`. A server keeps the trace's
 * server port, except a service, which has its VIP's. A choice a connection
 * cannot use (a service of another protocol or for a connection without ports, an external
 * address the client's switch has no way to, the client's own pod, an endpoint without an address
 * of the connection's family) leaves the connection unmapped, counted as `map-refused`.
 *
 * Errors name the file, line and column, and what was expected; names are checked against the
 * network (the endpoints `networkEndpoints` finds), so a typo is caught before any packet.
 */
import { LineCounter, isAlias, isMap, isScalar, parseDocument, stringify, type Node } from "yaml";
import { error, fail, formatIpv4, unknownNameHint, formatIpv6, ok, parseIpv4, parseIpv6, type Diagnostic, type Result } from "../base/index.js";
import { yamlMessage } from "../scenario/index.js";
import type { Endpoint, MapChoices, MapPlan, PlanChoices } from "./map.js";


/** A trace address in the plan's form (IPv6 in brackets, compressed), or undefined. */
function canonicalAddr(text: string): string | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return formatIpv4(v4);
  const v6 = parseIpv6(text.replace(/^\[(.*)\]$/, "$1"));
  return v6 ? `[${formatIpv6(v6)}]` : undefined;
}

/**
 * A server key in the plan's form: `ADDR:PORT/PROTO`, `ADDR PROTO` or `ADDR`; undefined if
 * malformed.
 */
function canonicalServer(text: string): string | undefined {
  const t = text.trim();
  const ported = /^(.+):(\d{1,5})\/(tcp|udp|sctp)$/.exec(t);
  if (ported) {
    const a = canonicalAddr(ported[1]!);
    const port = Number(ported[2]);
    return a !== undefined && port <= 65535 ? `${a}:${port}/${ported[3]}` : undefined;
  }
  const portless = /^(\S+) (tcp|udp|sctp|icmp|proto (\d{1,3}))$/.exec(t);
  if (portless) {
    const a = canonicalAddr(portless[1]!);
    return a !== undefined && Number(portless[3] ?? 0) <= 255 ? `${a} ${portless[2]}` : undefined;
  }
  return canonicalAddr(t);
}

/** Parses a mapping file against the network's endpoints. */
export function parseMapFile(text: string, file: string, endpoints: readonly Endpoint[]): Result<MapChoices> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const at = (node: Node | null | undefined): { loc: { file: string; line: number; column: number } } => {
    const p = lc.linePos(node?.range?.[0] ?? 0);
    return { loc: { file, line: p.line, column: p.col } };
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const p = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
    return fail(error("map.yaml-syntax", `YAML syntax error: ${yamlMessage(e.message)}`, { loc: { file, line: p.line, column: p.col } }));
  }
  const root = doc.contents;
  if (!isMap(root)) return fail(error("map.shape", "expected a mapping with hosts, servers and unlisted (see ovnsim replay --help)", at(root)));
  const diags: Diagnostic[] = [];
  const hosts = new Map<string, string>();
  const servers = new Map<string, string>();
  let unlisted: "auto" | "unmapped" = "auto";
  const pods = endpoints.filter((e) => e.kind === "pod");
  const named = (kind: string): string[] => endpoints.filter((e) => e.kind === kind).map((e) => e.name);
  for (const item of root.items) {
    const k = isScalar(item.key) ? String(item.key.value) : undefined;
    const v = item.value as Node | null;
    if (k === "ovnsimMap") {
      if (!isScalar(v) || v.value !== 1) diags.push(error("map.version", "ovnsimMap: expected 1, the only version of the format", at(v)));
    } else if (k === "unlisted") {
      if (isScalar(v) && (v.value === "auto" || v.value === "unmapped")) unlisted = v.value;
      else diags.push(error("map.unlisted", "unlisted: expected auto or unmapped", at(v)));
    } else if (k === "hosts" || k === "servers") {
      if (v === null || (isScalar(v) && v.value === null)) continue;
      if (!isMap(v)) {
        diags.push(error("map.shape", `${k}: expected a mapping of trace ${k === "hosts" ? "addresses to pods" : "servers to endpoints"}`, at(v)));
        continue;
      }
      for (const e of v.items) {
        const key = isScalar(e.key) ? String(e.key.value) : "";
        const val = isScalar(e.value) ? String(e.value.value ?? "") : undefined;
        if (val === undefined) {
          diags.push(error("map.shape", `${k}.${key}: expected a name, not ${e.value === null ? "a missing value" : isAlias(e.value) ? "an alias (write the name itself)" : "a collection"}`, at((e.value as Node | null) ?? (e.key as Node))));
          continue;
        }
        if (k === "hosts") {
          const addr = canonicalAddr(key);
          if (addr === undefined) diags.push(error("map.host", `hosts: ${JSON.stringify(key)} is not an IPv4 or IPv6 address`, at(e.key as Node)));
          else if (hosts.has(addr)) diags.push(error("map.host", `hosts: ${JSON.stringify(key)} is listed twice (${addr})`, at(e.key as Node)));
          else if (!pods.some((p) => p.name === val)) diags.push(error("map.pod", `hosts.${key}: ${JSON.stringify(val)} is not a pod of the network; ${unknownNameHint(val, pods.map((p) => p.name), "pods")}`, at(e.value as Node)));
          else hosts.set(addr, val);
          continue;
        }
        const arrow = key.split(" -> ");
        const client = arrow.length === 2 ? canonicalAddr(arrow[0]!.trim()) : undefined;
        const server = canonicalServer(arrow[arrow.length - 1]!);
        if (arrow.length > 2 || (arrow.length === 2 && client === undefined) || server === undefined) {
          diags.push(error("map.server", `servers: ${JSON.stringify(key)} is not a trace server (ADDR:PORT/PROTO, ADDR PROTO or ADDR, after "HOST -> " for one client)`, at(e.key as Node)));
          continue;
        }
        const m = /^(pod|service|external) (.+)$/.exec(val.trim());
        const kind = m?.[1];
        const name = m?.[2];
        if (kind === undefined || name === undefined) {
          diags.push(error("map.endpoint", `servers.${key}: expected "pod NAME", "service NAME" or "external ADDRESS", not ${JSON.stringify(val)}`, at(e.value as Node)));
          continue;
        }
        if (!endpoints.some((x) => x.kind === kind && x.name === name)) {
          diags.push(error("map.endpoint", `servers.${key}: the network has no ${kind} ${JSON.stringify(name)}; ${unknownNameHint(name, named(kind), kind === "pod" ? "pods" : kind === "service" ? "services" : "external addresses")}`, at(e.value as Node)));
          continue;
        }
        servers.set(client !== undefined ? `${client} -> ${server}` : server, name);
      }
    } else {
      diags.push(error("map.shape", `${k ?? "?"}: unknown key (expected ovnsimMap, hosts, servers, unlisted)`, at(item.key as Node)));
    }
  }
  return diags.length > 0 ? fail(...diags) : ok({ hosts, servers, unlisted });
}

/**
 * A plan's choices as a mapping file, after `header`'s comment lines: a server that clients reached
 * differently is listed per client.
 */
export function formatMapFile(choices: PlanChoices, endpoints: readonly Endpoint[], header: readonly string[]): string {
  const kindOf = new Map(endpoints.map((e) => [e.name, e.kind] as const));
  const servers: Record<string, string> = {};
  for (const [server, perHost] of choices.servers) {
    const names = new Set(perHost.values());
    if (names.size === 1) servers[server] = `${kindOf.get([...names][0]!)} ${[...names][0]}`;
    else for (const [host, name] of perHost) servers[`${host} -> ${server}`] = `${kindOf.get(name)} ${name}`;
  }
  const body = stringify({ ovnsimMap: 1, hosts: Object.fromEntries(choices.hosts), servers, unlisted: "auto" }, { lineWidth: 0 });
  return `${header.map((l) => `# ${l}`).join("\n")}\n${body}`;
}

/** `--save-map`'s file for `plan`, made by replaying `captures` onto `network` (as named on the command line). */
export function mapFileText(plan: MapPlan, network: string, captures: readonly string[]): string {
  const header = [
    `ovnsim replay mapping of ${captures.join(", ")} onto ${network} (${plan.mappedConnections} of ${plan.connections} connections mapped)`,
    "Edit and replay with: ovnsim replay NETWORK PCAP... --map THIS-FILE (see ovnsim replay --help)",
  ];
  return formatMapFile(plan.choices, plan.endpoints, header);
}
