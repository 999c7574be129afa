/**
 * The JSON rendering of a trace: a plain, stable object for tools and tests.
 *
 * Schema (version 1):
 * ```
 * {
 *   version: 1,
 *   flow: string,                       // the microflow, as on the `# ` line of the text forms
 *   verdict: "output" | "drop",         // "output" when at least one delivery happened
 *   outputs: [{
 *     datapath: string, port: string, portType: string,
 *     packet: { [ovnField: string]: string | number }   // the packet as delivered
 *   }],
 *   drops: [{
 *     datapath: string, pipeline: "ingress" | "egress", table: number, stage: string | null,
 *     reason: DropReason, description: string, detail: string | null,
 *     object: string | null,           // the model object responsible (rule provenance origin)
 *     rule: number | null               // the rule id responsible
 *   }],
 *   hops: [{ depth: number, kind: string, ... }]   // every node of the trace tree, pre-order
 * }
 * ```
 * `packet` always has `eth.src`, `eth.dst` (MAC text) and `eth.type` (number); `vlan.vid` when
 * tagged; for IPv4 `ip4.src`/`ip4.dst`, for IPv6 `ip6.src`/`ip6.dst` (address text), then
 * `ip.proto` and `ip.ttl`; the L4 pair where the protocol has one (`tcp.src`/`tcp.dst`,
 * `udp.*`, `sctp.*`, `icmp4.type`/`icmp4.code`, `icmp6.type`/`icmp6.code`), and for an IPv6
 * Neighbor Solicitation or Advertisement `nd.target`, `nd.sll`, `nd.tll`; for ARP `arp.op`,
 * `arp.spa`, `arp.tpa`, `arp.sha`, `arp.tha`. Numbers are numbers, addresses are strings.
 *
 * Hops by `kind` (besides `depth`, the nesting level from 0):
 * - `pipeline`: datapath, pipeline, inport, outport (port names; outport "" in ingress);
 * - `table`: datapath, pipeline, table, stage, trivial, and for a match: rule (id), priority,
 *   match, actions (OVN text), source, object; `rule: null` for a miss;
 * - `action`: text; `modify`: text;
 * - `ct`: header, action (`ct`|`ct_lb`|null), zone, state (`est|trk`), assumed, committed,
 *   backend (`ip[:port]` or null), nat, note, recirculated;
 * - `output`: datapath, port, portType; `patch`: datapath, port, portType;
 * - `drop`: datapath, stage, reason, detail, object; `limit`: limit, value;
 * - `multicast`: datapath, group; `member`: port, skipped; `clone`; `generated`: name;
 *   `resubmit`: table.
 * Absent optional values are `null`, never missing, so every hop of a kind has the same keys.
 */
import { describeDropReason, type ExecResult } from "../dataplane/index.js";
import { formatMatch } from "../flow/index.js";
import { formatOvnActions } from "../ofp/index.js";
import { ctHeader } from "./display.js";
import { formatIp } from "./ip-text.js";
import { ctStateText, formatMicroflow, packetFields } from "./ovn-names.js";
import { childrenOf, type TraceNode, type TraceTree } from "./tree.js";

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [k: string]: JsonValue };

export interface TraceJsonOutput {
  readonly datapath: string;
  readonly port: string;
  readonly portType: string;
  readonly packet: Readonly<Record<string, string | number>>;
}

export interface TraceJsonDrop {
  readonly datapath: string;
  readonly pipeline: "ingress" | "egress";
  readonly table: number;
  readonly stage: string | null;
  readonly reason: string;
  readonly description: string;
  readonly detail: string | null;
  readonly object: string | null;
  readonly rule: number | null;
}

export type TraceJsonHop = { readonly depth: number; readonly kind: TraceNode["kind"] } & { readonly [k: string]: JsonValue };

export interface TraceJson {
  readonly version: 1;
  readonly flow: string;
  readonly verdict: "output" | "drop";
  readonly outputs: readonly TraceJsonOutput[];
  readonly drops: readonly TraceJsonDrop[];
  readonly hops: readonly TraceJsonHop[];
}

/** The JSON form of a recorded trace and the executor's result for the same run. */
export function traceJson(tree: TraceTree, result: Pick<ExecResult, "outputs" | "drops">): TraceJson {
  const hops: TraceJsonHop[] = [];
  const walk = (nodes: readonly TraceNode[], depth: number): void => {
    for (const n of nodes) {
      hops.push({ depth, kind: n.kind, ...hopFields(n) });
      walk(childrenOf(n), depth + 1);
    }
  };
  walk(tree.children, 0);
  return {
    version: 1,
    flow: formatMicroflow(tree.packet),
    verdict: result.outputs.length > 0 ? "output" : "drop",
    outputs: result.outputs.map((o) => ({ datapath: o.datapathName, port: o.portName, portType: o.portType, packet: packetFields(o.key) })),
    drops: result.drops.map((d) => ({
      datapath: d.datapathName,
      pipeline: d.pipeline,
      table: d.table,
      stage: d.stage ?? null,
      reason: d.reason,
      description: describeDropReason(d.reason),
      detail: d.detail ?? null,
      object: d.origin ?? null,
      rule: d.ruleId ?? null,
    })),
    hops,
  };
}

function hopFields(n: TraceNode): Record<string, JsonValue> {
  switch (n.kind) {
    case "pipeline":
      return { datapath: n.datapathName, pipeline: n.pipeline, inport: n.inportName, outport: n.outportName };
    case "table": {
      const r = n.rule;
      return {
        datapath: n.datapathName,
        pipeline: n.pipeline,
        table: n.table,
        stage: n.stage,
        trivial: n.trivial,
        rule: r ? r.id : null,
        priority: r ? r.priority : null,
        match: r ? (r.provenance.matchText ?? formatMatch(r.match)) : null,
        actions: r ? (r.provenance.actionText ?? formatOvnActions(r.actions, r.match, r.table)) : null,
        source: r ? r.provenance.source : null,
        object: r?.provenance.origin ?? null,
      };
    }
    case "action":
    case "modify":
      return { text: n.text };
    case "ct": {
      const ev = n.event;
      const b = ev?.backend;
      return {
        header: ctHeader(n),
        action: n.action ? n.action.kind : null,
        zone: ev ? ev.zone : null,
        state: ev ? ctStateText(ev.state) : null,
        assumed: ev ? ev.assumed : null,
        committed: ev ? ev.committed : null,
        backend: b ? `${formatIp(b.ip)}${b.port !== undefined ? `:${b.port}` : ""}` : null,
        nat: ev?.nat ?? null,
        note: ev?.note ?? null,
        recirculated: n.recirculated,
      };
    }
    case "output":
      return { datapath: n.record.datapathName, port: n.record.portName, portType: n.record.portType };
    case "tunnel":
      return { datapath: n.record.datapathName, port: n.record.outportName, chassis: n.record.chassis };
    case "patch":
      return { datapath: n.datapathName, port: n.portName, portType: n.portType };
    case "drop":
      return { datapath: n.record.datapathName, stage: n.record.stage ?? null, reason: n.record.reason, detail: n.record.detail ?? null, object: n.record.origin ?? null };
    case "limit":
      return { limit: n.event.limit, value: n.event.value };
    case "multicast":
      return { datapath: n.datapathName, group: n.group };
    case "member":
      return { port: n.portName, skipped: n.skipped };
    case "clone":
      return {};
    case "generated":
      return { name: n.name };
    case "log":
      return { text: n.text };
    case "select":
      return { field: n.field, id: n.id, chosen: n.chosen };
    case "resubmit":
      return { table: n.table };
    default: {
      const _never: never = n;
      return _never;
    }
  }
}
