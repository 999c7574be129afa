/**
 * Loading the NETWORK argument of a command, and compiling it; errors become `InputError`s that
 * the CLI prints one per line (file:line:col or model path) with exit code 2.
 */
import { compileNetwork, type CompiledNetwork } from "../compile/index.js";
import { loadNetworkFile, type Scenario } from "../scenario/index.js";
import { InputError } from "./capture-input.js";

/** Loads a scenario (or any supported network file) or throws InputError. */
export function loadNetworkArg(path: string): Scenario {
  const r = loadNetworkFile(path);
  if (!r.ok) throw new InputError(r.diags);
  return r.value;
}

/** Compiles a loaded network or throws InputError. */
export function compileArg(s: Scenario): CompiledNetwork {
  const c = compileNetwork(s.network);
  if (!c.ok) throw new InputError(c.diags);
  return c.value;
}
