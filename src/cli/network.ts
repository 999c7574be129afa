/**
 * Loading the NETWORK argument of a command, and compiling it; errors become `InputError`s that
 * the CLI prints one per line (file:line:col or model path) with exit code 2. Warnings of the
 * loader (an OVN database's unmodelled tables, columns and options) go to stderr, one line each,
 * and do not stop the command.
 */
import { formatDiagnostic } from "../base/index.js";
import { compileNetwork, type CompiledNetwork } from "../compile/index.js";
import { loadNetworkFile, type Scenario } from "../scenario/index.js";
import { InputError } from "./capture-input.js";
import type { Io } from "./io.js";

export interface NetworkArgOptions {
  /** `--sb`: the Southbound database beside an NB database. */
  readonly sb?: string;
  /** Where warnings go; without it they are not printed. */
  readonly io?: Io;
}

/** Loads a scenario (or any supported network file) or throws InputError. */
export function loadNetworkArg(path: string, opts: NetworkArgOptions = {}): Scenario {
  const r = loadNetworkFile(path, opts.sb !== undefined ? { sb: opts.sb } : {});
  if (!r.ok) throw new InputError(r.diags);
  for (const w of r.value.warnings ?? []) opts.io?.err(`ovnsim: ${formatDiagnostic(w)}\n`);
  return r.value;
}

/**
 * Compiles a loaded network or throws InputError. With `lazy`, datapaths are lowered when first
 * read (compile.ts `CompileOptions.lazy`): a failure found then is a `LowerError`, whose
 * diagnostics the CLI prints as it prints these.
 */
export function compileArg(s: Scenario, opts: { readonly lazy?: boolean } = {}): CompiledNetwork {
  const c = compileNetwork(s.network, opts.lazy ? { lazy: true } : {});
  if (!c.ok) throw new InputError(c.diags);
  return c.value;
}
