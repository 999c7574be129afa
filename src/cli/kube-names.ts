/**
 * Kubernetes names on the command line, for networks built from Kube-OVN manifests: where a
 * command names a port (`trace --from`, `trace --to`, `replay --inject`), `pod/NS/NAME` stands for
 * the pod's switch port; `svc/` and `node/` name addresses (trace.ts `kubeEndpoints`). A name that
 * is not of these forms is a port name and passes through unchanged. Errors are usage errors
 * (InputError, exit 2) naming the option and the name.
 */
import { error, unknownNameHint } from "../base/index.js";
import type { Scenario } from "../scenario/index.js";
import { InputError } from "./capture-input.js";

function bad(code: string, message: string): InputError {
  return new InputError([error(code, message)]);
}

/** Throws the error for a Kubernetes name given for a network that is not built from manifests. */
export function needManifests(name: string, code = "usage.kube-name"): never {
  throw bad(code, `${name}: Kubernetes names work only for networks built from Kube-OVN manifests`);
}

/**
 * The switch port `name` names after `option` (e.g. "--inject"): a port name as is, or the port of
 * `pod/NS/NAME`. `svc/` and `node/` are refused here: they name addresses, not ports.
 */
export function kubePort(scenario: Scenario, option: string, name: string, code = "usage.kube-name"): string {
  if (name.startsWith("svc/") || name.startsWith("node/")) throw bad(code, `${option} ${name}: names an address, not a port (give a port name or pod/NAMESPACE/NAME)`);
  if (!name.startsWith("pod/")) return name;
  const k = scenario.kube;
  if (!k) needManifests(name, code);
  const lsp = k.pods.get(name.slice(4));
  if (lsp === undefined) {
    throw bad(code, `${option} ${name}: no such pod; ${unknownNameHint(name, [...k.pods.keys()].map((p) => `pod/${p}`), "pods")}`);
  }
  return lsp;
}
