/**
 * The ACL match checker the scenario loader hands to `validateNetwork`: it parses a match with the
 * OVN expression parser and lists the address sets (`$name`) and port groups (`@name`) it uses.
 */
import { parseExpr, walkExpr } from "../expr/index.js";
import type { MatchCheck } from "../model/index.js";

export function exprMatchChecker(match: string): MatchCheck {
  const r = parseExpr(match, "<acl>");
  if (!r.ok) return { errors: r.diags.map((d) => d.message), addressSets: [], portGroups: [] };
  const addressSets = new Set<string>();
  const portGroups = new Set<string>();
  walkExpr(r.value, (e) => {
    if (e.kind !== "cmp") return;
    for (const c of e.set.items) {
      if (c.kind === "address-set") addressSets.add(c.name);
      else if (c.kind === "port-group") portGroups.add(c.name);
    }
  });
  return { errors: [], addressSets: [...addressSets], portGroups: [...portGroups] };
}
