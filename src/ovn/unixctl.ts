/**
 * A client of an OVS or OVN daemon's control socket, the JSON-RPC that `ovs-appctl` speaks, kept
 * open across calls.
 *
 * Why: `ovs-appctl` is a process per command, about 10 ms on this project's machines. The replay
 * oracle (scripts/ovs-replay.ts) makes two commands per packet, thousands of packets per run; over
 * one socket a command is a round trip through the daemon's main loop.
 *
 * What: `UnixctlClient.connect(path)` opens the socket; `call(method, ...params)` sends one request
 * (`{"method", "params", "id"}`, the parameters strings) and resolves with the reply's `result`
 * text, or a `Diagnostic` (code `ovs.command`) with the reply's `error` text, a closed socket, a
 * reply that is not JSON-RPC, or no reply within the timeout. Calls are sent one at a time, in
 * order: the daemon serves a connection's requests in turn, so a call's reply also says the daemon
 * has finished with every earlier one.
 *
 * Framing: the daemon writes each reply as one JSON object, with no separator between replies;
 * `JsonObjects` splits the stream at the close of each top-level object (strings and their
 * escapes taken into account). A reply still unfinished past 64 MiB ends the connection with an error.
 */
import { connect, type Socket } from "node:net";
import { error, fail, ok, type Result } from "../base/index.js";

/** The longest reply accepted, in bytes of JSON. */
const MAX_REPLY = 64 * 1024 * 1024;

/** Splits a byte stream of concatenated JSON objects into the objects' texts. */
export class JsonObjects {
  /** The longest object accepted, in characters. */
  readonly limit: number;
  private parts: string[] = [];
  private size = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(limit = MAX_REPLY) {
    this.limit = limit;
  }

  /** Feeds `text`; returns the objects it completes, in order, or undefined past `limit`. */
  push(text: string): string[] | undefined {
    const done: string[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.depth === 0) {
          this.parts.push(text.slice(start, i + 1));
          done.push(this.parts.join("").trim());
          this.parts = [];
          this.size = 0;
          start = i + 1;
        }
      }
    }
    const rest = text.slice(start);
    if (this.depth === 0 && rest.trim() === "") return done;
    this.parts.push(rest);
    this.size += rest.length;
    return this.size > this.limit ? undefined : done;
  }
}

interface Pending {
  readonly id: number;
  readonly what: string;
  readonly resolve: (r: Result<string>) => void;
  readonly timer: NodeJS.Timeout;
}

/** An open control socket; see the module header. */
export class UnixctlClient {
  private readonly socket: Socket;
  private readonly path: string;
  private readonly timeoutMs: number;
  private readonly objects = new JsonObjects();
  private readonly pending: Pending[] = [];
  private nextId = 0;
  private broken: string | undefined;

  private constructor(socket: Socket, path: string, timeoutMs: number) {
    this.socket = socket;
    this.path = path;
    this.timeoutMs = timeoutMs;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.receive(chunk));
    socket.on("error", (e) => this.breakOff(e.message));
    socket.on("close", () => this.breakOff("the daemon closed the connection"));
  }

  /** Connects to the control socket at `path`; each later call waits `timeoutMs` for its reply. */
  static connect(path: string, timeoutMs = 30_000): Promise<Result<UnixctlClient>> {
    return new Promise((resolve) => {
      const s = connect(path);
      const onError = (e: Error): void => resolve(fail(error("ovs.command", `${path}: ${e.message}`)));
      s.once("error", onError);
      s.once("connect", () => {
        s.off("error", onError);
        resolve(ok(new UnixctlClient(s, path, timeoutMs)));
      });
    });
  }

  /** Runs daemon command `method` with `params`; resolves with its output text. */
  call(method: string, ...params: string[]): Promise<Result<string>> {
    const what = `${method} ${params.join(" ")}`.trim();
    if (this.broken !== undefined) return Promise.resolve(fail(error("ovs.command", `${this.path}: ${what}: ${this.broken}`)));
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.breakOff(`no reply to ${what} within ${this.timeoutMs} ms`), this.timeoutMs);
      this.pending.push({ id, what, resolve, timer });
      this.socket.write(JSON.stringify({ method, params, id }));
    });
  }

  /** Closes the socket; calls still waiting fail. */
  close(): void {
    this.breakOff("the connection was closed");
    this.socket.destroy();
  }

  private receive(chunk: string): void {
    const done = this.objects.push(chunk);
    if (done === undefined) {
      this.breakOff(`a reply longer than ${MAX_REPLY} bytes`);
      this.socket.destroy();
      return;
    }
    for (const text of done) {
      const p = this.pending.shift();
      if (p === undefined) continue;
      clearTimeout(p.timer);
      p.resolve(this.replyOf(text, p));
    }
  }

  private replyOf(text: string, p: Pending): Result<string> {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return fail(error("ovs.command", `${this.path}: ${p.what}: a reply that is not JSON`));
    }
    const m = msg as { id?: unknown; result?: unknown; error?: unknown };
    if (m.id !== p.id) return fail(error("ovs.command", `${this.path}: ${p.what}: a reply to request ${String(m.id)}, not ${p.id}`));
    if (m.error !== null && m.error !== undefined) return fail(error("ovs.command", `${this.path}: ${p.what}: ${String(m.error).trim()}`));
    return typeof m.result === "string" ? ok(m.result) : fail(error("ovs.command", `${this.path}: ${p.what}: a reply without a result`));
  }

  private breakOff(why: string): void {
    this.broken ??= why;
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.resolve(fail(error("ovs.command", `${this.path}: ${p.what}: ${why}`)));
    }
  }
}
