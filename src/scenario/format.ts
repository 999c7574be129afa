/**
 * The scenario file format, declared once: every object, its allowed fields, their types, and the
 * Northbound column each maps to.
 *
 * What: a small type language (`FieldType`) and the `SCENARIO` spec written in it. The loader
 * checks YAML against this spec (unknown fields, wrong types, values outside an enum or range),
 * and `scenarioJsonSchema()` renders the same spec as a JSON Schema (draft 2020-12), which is
 * published as `schema/scenario.schema.json`. Because both come from one table, the loader and the
 * schema cannot disagree on which keys are allowed.
 *
 * Not here: checks that need the whole network (dangling references, duplicate addresses), which
 * `model/validate.ts` does after the model is built.
 */

/** The type of one field. Objects are closed: any key not declared is an error. */
export type FieldType =
  | { readonly kind: "string"; readonly enum?: readonly string[] }
  | { readonly kind: "int"; readonly min: number; readonly max: number }
  | { readonly kind: "bool" }
  | { readonly kind: "list"; readonly of: FieldType }
  /** A mapping with free-form string keys. */
  | { readonly kind: "map"; readonly of: FieldType }
  | { readonly kind: "object"; readonly spec: ObjectSpec };

export interface FieldSpec {
  readonly type: FieldType;
  readonly required?: boolean;
  /** One sentence for the schema and the README. */
  readonly doc: string;
  /** The Northbound column (or other source) the field mirrors, when there is one. */
  readonly nb?: string;
}

export interface ObjectSpec {
  /** A name for messages and the schema's `$defs`: `port`, `acl`, ... */
  readonly name: string;
  readonly doc: string;
  readonly fields: Readonly<Record<string, FieldSpec>>;
}

const str: FieldType = { kind: "string" };
const strList: FieldType = { kind: "list", of: str };
const strMap: FieldType = { kind: "map", of: str };

export const ENCAP: ObjectSpec = {
  name: "encap",
  doc: "A tunnel endpoint of a chassis.",
  fields: {
    type: { type: { kind: "string", enum: ["geneve", "vxlan", "stt"] }, required: true, doc: "Encapsulation type.", nb: "SB Encap.type" },
    ip: { type: str, required: true, doc: "Tunnel endpoint IP.", nb: "SB Encap.ip" },
  },
};

export const CHASSIS: ObjectSpec = {
  name: "chassis",
  doc: "A hypervisor (Southbound Chassis) that ports are bound to.",
  fields: {
    name: { type: str, required: true, doc: "Chassis name (system-id).", nb: "SB Chassis.name" },
    hostname: { type: str, doc: "Host name.", nb: "SB Chassis.hostname" },
    encaps: { type: { kind: "list", of: { kind: "object", spec: ENCAP } }, doc: "Tunnel endpoints.", nb: "SB Chassis.encaps" },
    bridgeMappings: { type: strMap, doc: "Provider network name to bridge.", nb: "Open_vSwitch external_ids:ovn-bridge-mappings" },
  },
};

export const ACL: ObjectSpec = {
  name: "acl",
  doc: "An ACL on a switch or a port group.",
  fields: {
    direction: { type: { kind: "string", enum: ["from-lport", "to-lport"] }, required: true, doc: "from-lport (ingress pipeline) or to-lport (egress pipeline).", nb: "ACL.direction" },
    priority: { type: { kind: "int", min: 0, max: 32767 }, required: true, doc: "Higher wins.", nb: "ACL.priority" },
    match: { type: str, required: true, doc: "OVN match expression.", nb: "ACL.match" },
    action: { type: { kind: "string", enum: ["allow", "allow-related", "allow-stateless", "drop", "reject"] }, required: true, doc: "Verdict.", nb: "ACL.action" },
    name: { type: str, doc: "Name shown in logs (at most 63 characters).", nb: "ACL.name" },
    label: { type: { kind: "int", min: 0, max: 4294967295 }, doc: "Stored in ct_label when the connection is committed.", nb: "ACL.label" },
    log: { type: { kind: "bool" }, doc: "Log matching packets.", nb: "ACL.log" },
    severity: { type: { kind: "string", enum: ["alert", "warning", "notice", "info", "debug"] }, doc: "Log severity.", nb: "ACL.severity" },
    applyAfterLb: { type: { kind: "bool" }, doc: "Evaluate after load balancing (from-lport only).", nb: "ACL.options:apply-after-lb" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "ACL.external_ids" },
  },
};

export const PORT: ObjectSpec = {
  name: "port",
  doc: "A logical switch port.",
  fields: {
    name: { type: str, required: true, doc: "Port name, unique in the network.", nb: "Logical_Switch_Port.name" },
    type: { type: { kind: "string", enum: ["", "router", "localnet", "remote", "localport", "external", "virtual", "l2gateway"] }, doc: "Port type; omitted or empty for a VIF.", nb: "Logical_Switch_Port.type" },
    addresses: { type: strList, doc: '"MAC [IP...]", "unknown", "router" or "dynamic".', nb: "Logical_Switch_Port.addresses" },
    portSecurity: { type: strList, doc: '"MAC [IP[/PREFIX]...]".', nb: "Logical_Switch_Port.port_security" },
    options: { type: strMap, doc: "Port options (network_name, router-port, requested-chassis, ...).", nb: "Logical_Switch_Port.options" },
    tag: { type: { kind: "int", min: 1, max: 4095 }, doc: "VLAN tag (localnet ports).", nb: "Logical_Switch_Port.tag" },
    chassis: { type: str, doc: "Chassis the port is bound to.", nb: "SB Port_Binding.chassis" },
    enabled: { type: { kind: "bool" }, doc: "false disables the port.", nb: "Logical_Switch_Port.enabled" },
    tunnelKey: { type: { kind: "int", min: 1, max: 32767 }, doc: "Port tunnel key; assigned in port order when omitted.", nb: "SB Port_Binding.tunnel_key" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "Logical_Switch_Port.external_ids" },
  },
};

export const SWITCH: ObjectSpec = {
  name: "switch",
  doc: "A logical switch.",
  fields: {
    name: { type: str, required: true, doc: "Switch name.", nb: "Logical_Switch.name" },
    ports: { type: { kind: "list", of: { kind: "object", spec: PORT } }, doc: "Ports, in order.", nb: "Logical_Switch.ports" },
    acls: { type: { kind: "list", of: { kind: "object", spec: ACL } }, doc: "Switch ACLs.", nb: "Logical_Switch.acls" },
    loadBalancers: { type: strList, doc: "Names of attached load balancers.", nb: "Logical_Switch.load_balancer" },
    otherConfig: { type: strMap, doc: "other_config (subnet, exclude_ips, ...).", nb: "Logical_Switch.other_config" },
    tunnelKey: { type: { kind: "int", min: 1, max: 16777215 }, doc: "Datapath tunnel key; assigned in switch order when omitted.", nb: "SB Datapath_Binding.tunnel_key" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "Logical_Switch.external_ids" },
  },
};

export const PORT_GROUP: ObjectSpec = {
  name: "portGroup",
  doc: "A named set of switch ports, usable as @name in matches, with its own ACLs.",
  fields: {
    name: { type: str, required: true, doc: "Port group name.", nb: "Port_Group.name" },
    ports: { type: strList, doc: "Member port names.", nb: "Port_Group.ports" },
    acls: { type: { kind: "list", of: { kind: "object", spec: ACL } }, doc: "ACLs applied to the members.", nb: "Port_Group.acls" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "Port_Group.external_ids" },
  },
};

export const ADDRESS_SET: ObjectSpec = {
  name: "addressSet",
  doc: "A named set of addresses, usable as $name in matches.",
  fields: {
    name: { type: str, required: true, doc: "Address set name.", nb: "Address_Set.name" },
    addresses: { type: strList, doc: "IP addresses, CIDRs or MACs.", nb: "Address_Set.addresses" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "Address_Set.external_ids" },
  },
};

export const LOAD_BALANCER: ObjectSpec = {
  name: "loadBalancer",
  doc: "A load balancer: VIPs and their backends.",
  fields: {
    name: { type: str, required: true, doc: "Load balancer name.", nb: "Load_Balancer.name" },
    protocol: { type: { kind: "string", enum: ["tcp", "udp", "sctp"] }, doc: "Protocol of VIPs with a port (default tcp).", nb: "Load_Balancer.protocol" },
    vips: { type: { kind: "map", of: strList }, doc: '"IP[:PORT]" (IPv6 as "[IP]:PORT") to a list of backends of the same form.', nb: "Load_Balancer.vips" },
    selectionFields: { type: { kind: "list", of: { kind: "string", enum: ["eth_src", "eth_dst", "ip_src", "ip_dst", "tp_src", "tp_dst"] } }, doc: "Fields hashed to choose a backend.", nb: "Load_Balancer.selection_fields" },
    options: { type: strMap, doc: "Options (hairpin_snat_ip, reject, ...).", nb: "Load_Balancer.options" },
    externalIds: { type: strMap, doc: "Free-form metadata.", nb: "Load_Balancer.external_ids" },
  },
};

export const PROBE_EXPECT: ObjectSpec = {
  name: "probeExpect",
  doc: "The expected outcome: the output ports, or a drop.",
  fields: {
    output: { type: strList, doc: "Ports the packet leaves by (any order)." },
    drop: { type: { kind: "bool" }, doc: "true when the packet is dropped (no output)." },
    fields: { type: strMap, doc: "Header fields rewritten on the way (field name to value), e.g. ip4.dst after DNAT." },
  },
};

export const PROBE: ObjectSpec = {
  name: "probe",
  doc: "One packet to trace and what should happen to it.",
  fields: {
    name: { type: str, required: true, doc: "Probe name, unique in the scenario." },
    datapath: { type: str, doc: "Switch the packet enters; optional when the microflow's inport names a port." },
    microflow: { type: str, required: true, doc: "ovn-trace microflow expression." },
    ct: { type: strList, doc: "ovn-trace --ct values, one per conntrack action in order; each a comma-separated list of trk, new, est, rel, rpl, inv." },
    lbDst: { type: str, doc: "ovn-trace --lb-dst: the backend IP[:PORT] a load balancer picks." },
    selectId: { type: { kind: "int", min: 0, max: 65535 }, doc: "ovn-trace --select-id." },
    expect: { type: { kind: "object", spec: PROBE_EXPECT }, required: true, doc: "The expected outcome." },
  },
};

export const SCENARIO: ObjectSpec = {
  name: "scenario",
  doc: "An ovnsim scenario: a logical network and the probes to trace through it.",
  fields: {
    name: { type: str, required: true, doc: "Network name." },
    description: { type: str, doc: "Free text." },
    options: { type: strMap, doc: "NB_Global options.", nb: "NB_Global.options" },
    chassis: { type: { kind: "list", of: { kind: "object", spec: CHASSIS } }, doc: "Chassis.", nb: "SB Chassis" },
    addressSets: { type: { kind: "list", of: { kind: "object", spec: ADDRESS_SET } }, doc: "Address sets.", nb: "Address_Set" },
    portGroups: { type: { kind: "list", of: { kind: "object", spec: PORT_GROUP } }, doc: "Port groups.", nb: "Port_Group" },
    loadBalancers: { type: { kind: "list", of: { kind: "object", spec: LOAD_BALANCER } }, doc: "Load balancers.", nb: "Load_Balancer" },
    switches: { type: { kind: "list", of: { kind: "object", spec: SWITCH } }, doc: "Logical switches.", nb: "Logical_Switch" },
    probes: { type: { kind: "list", of: { kind: "object", spec: PROBE } }, doc: "Probes." },
  },
};

/** A human name of a field type, for "expected ..." messages. */
export function describeType(t: FieldType): string {
  switch (t.kind) {
    case "string":
      return "a string";
    case "int":
      return `an integer in ${t.min}..${t.max}`;
    case "bool":
      return "true or false";
    case "list":
      return "a list";
    case "map":
      return "a mapping";
    case "object":
      return `a mapping (${t.spec.name})`;
    default: {
      const _: never = t;
      return _;
    }
  }
}

/** The JSON Schema (draft 2020-12) of scenario files, derived from `SCENARIO`. */
export function scenarioJsonSchema(): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  const typeSchema = (t: FieldType): Record<string, unknown> => {
    switch (t.kind) {
      case "string":
        return t.enum ? { type: "string", enum: [...t.enum] } : { type: "string" };
      case "int":
        return { type: "integer", minimum: t.min, maximum: t.max };
      case "bool":
        return { type: "boolean" };
      case "list":
        return { type: "array", items: typeSchema(t.of) };
      case "map":
        return { type: "object", additionalProperties: typeSchema(t.of) };
      case "object":
        addDef(t.spec);
        return { $ref: `#/$defs/${t.spec.name}` };
      default: {
        const _: never = t;
        return _;
      }
    }
  };
  const objectSchema = (spec: ObjectSpec): Record<string, unknown> => {
    const properties: Record<string, unknown> = {};
    for (const [k, f] of Object.entries(spec.fields)) properties[k] = { ...typeSchema(f.type), description: f.nb ? `${f.doc} (${f.nb})` : f.doc };
    const required = Object.entries(spec.fields)
      .filter(([, f]) => f.required)
      .map(([k]) => k);
    return { type: "object", description: spec.doc, properties, required, additionalProperties: false };
  };
  function addDef(spec: ObjectSpec): void {
    if (spec.name in defs) return;
    defs[spec.name] = {};
    defs[spec.name] = objectSchema(spec);
  }
  const root = objectSchema(SCENARIO);
  return { $schema: "https://json-schema.org/draft/2020-12/schema", $id: "https://ovnsim.dev/schema/scenario.schema.json", title: "ovnsim scenario", ...root, $defs: defs };
}
