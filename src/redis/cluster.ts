import calculateSlot from 'cluster-key-slot';
import { Cluster, type ClusterNode, type ClusterOptions, Command } from 'ioredis';
import { ConfigError } from '../errors/index.js';
import { Keys } from '../protocol/keys.js';

/**
 * One-slot cluster mode (docs/cluster.md): every key of a namespace carries the namespace's hash tag, so the whole
 * namespace lives in one slot of a Redis Cluster, on one primary. Lua scripts that build key names from a prefix,
 * MULTI blocks, SCAN, INFO and the clock then all work as on a single Redis, as long as they reach that primary.
 */

/** The text between the first `{` and the next `}` of a namespace, when non-empty: Redis Cluster's hash tag. */
export function hashTagOf(namespace: string): string | undefined {
  const open = namespace.indexOf('{');
  if (open < 0) return undefined;
  const close = namespace.indexOf('}', open + 1);
  return close > open + 1 ? namespace.slice(open + 1, close) : undefined;
}

/** Refuses a namespace whose keys would be spread over the cluster's slots. */
export function checkClusterNamespace(namespace: string): void {
  if (hashTagOf(namespace) === undefined)
    throw new ConfigError(
      'namespace',
      `in cluster mode the namespace must carry a hash tag so every key lands in one slot: use "{${namespace.replace(/[{}]/g, '') || 'resque'}}" instead of "${namespace}"`,
    );
}

/** `redis+cluster://[user:password@]host:port[,host:port…]` and `rediss+cluster://…` (TLS). */
export function isClusterUrl(target: string): boolean {
  return /^rediss?\+cluster:\/\//.test(target);
}

export interface ParsedClusterUrl {
  nodes: ClusterNode[];
  options: ClusterOptions;
}

/** The start-up nodes, the credentials and TLS of a cluster URL. */
export function parseClusterUrl(target: string): ParsedClusterUrl {
  const match = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?@]+)\/?(?:\?.*)?$/.exec(target);
  if (!match)
    throw new ConfigError(
      'redis',
      `expected redis+cluster://host:port[,host:port…] (or rediss+cluster:// for TLS), got ${redactCredentials(target)}`,
    );
  const [, scheme, auth, hosts] = match;
  const nodes = hosts!.split(',').map((hostPort) => {
    const colon = hostPort.lastIndexOf(':');
    const host = colon > 0 ? hostPort.slice(0, colon) : hostPort;
    const port = colon > 0 ? Number(hostPort.slice(colon + 1)) : 6379;
    if (!host || !Number.isInteger(port) || port <= 0 || port > 65535)
      throw new ConfigError('redis', `not a host:port in the cluster URL: ${JSON.stringify(hostPort)}`);
    return { host, port };
  });
  const redisOptions: NonNullable<ClusterOptions['redisOptions']> = {};
  if (auth) {
    const colon = auth.indexOf(':');
    const username = colon >= 0 ? decodeURIComponent(auth.slice(0, colon)) : '';
    const password = decodeURIComponent(colon >= 0 ? auth.slice(colon + 1) : auth);
    if (username) redisOptions.username = username;
    if (password) redisOptions.password = password;
  }
  if (scheme === 'rediss') redisOptions.tls = {};
  return { nodes, options: { redisOptions } };
}

function redactCredentials(target: string): string {
  return target.replace(/\/\/[^@/]*@/, '//');
}

/**
 * A Cluster client for one namespace's slot. A command naming no key (TIME, INFO, CONFIG, SCAN, CLIENT, PUBLISH,
 * a script call without keys) would go to a random primary; here it goes to the primary that serves the namespace's
 * slot, and follows that slot when it moves. Commands with keys are routed by ioredis as usual, MOVED and ASK
 * included.
 *
 * While the slot is being moved (docs/cluster.md, Moving the slot) Redis refuses a command before running it when it
 * cannot run it whole on the node asked: MOVED, ASK, TRYAGAIN (some of its keys moved, others not). (CLUSTERDOWN, a
 * primary lost, is left to ioredis's own retries: a client is told within its retries that the cluster is down.)
 * Such a refusal is safe to answer by sending the command again: here it is, after a pause, until the move is over
 * (at most SLOT_MOVE_PATIENCE_MS), for single commands, pipelines and MULTI blocks alike, where ioredis alone gives up
 * after its 16 redirections, or at once for a pipeline or MULTI whose commands met different refusals. Every script
 * call of the namespace's slot also declares the slot guard (Keys.slotGuard), a key that never exists: while the slot
 * is open Redis then refuses the call rather than start it and stop it at an undeclared key already moved.
 */
export class OneSlotCluster extends Cluster {
  /** The namespace's slot. */
  readonly slot: number;
  /** Declared by every script call of the slot: see the class comment. */
  readonly slotGuard: string;

  constructor(
    readonly nodesAtStartUp: ClusterNode[],
    readonly clusterOptions: ClusterOptions,
    readonly namespace: string,
  ) {
    super(nodesAtStartUp, clusterOptions);
    this.slot = calculateSlot(`${namespace}:`);
    this.slotGuard = new Keys(namespace).slotGuard;
    /**
     * A MULTI block refused before it ran (its EXEC refused, or EXECABORT after refusals of its commands: Redis
     * discarded it whole) is sent again, as a new MULTI of copies of its commands: a tracked durable enqueue goes through
     * a slot move or a failover instead of failing with MOVED, ASK or TRYAGAIN, and runs once.
     */
    this.multi = ((...args: unknown[]) =>
      this.resendingMulti(args, Date.now() + SLOT_MOVE_PATIENCE_MS)) as Cluster['multi'];
  }

  override sendCommand(
    command: Command,
    stream?: Parameters<Cluster['sendCommand']>[1],
    node?: unknown,
  ): unknown {
    if (node === undefined && command.getSlot() === null) {
      const slot = this.slot;
      command.getSlot = () => slot;
    } else if (command.getSlot() === this.slot) this.guardScriptCall(command);
    const sent = super.sendCommand(command, stream, node);
    // A pipeline's commands are resent by the pipeline; a command with a callback (ioredis's own: its ready check)
    // is answered through the callback, and a promise returned in its place would reject unheard.
    // ioredis sends a command again through here (from its offline queue) and drops what this returns: the promise
    // made on its first sending is the caller's, and the only one.
    const { callback } = command as unknown as { callback?: unknown };
    if (node !== undefined || callback !== undefined || !(sent instanceof Promise) || WATCHED.has(command))
      return sent;
    WATCHED.add(command);
    const deadline = Date.now() + SLOT_MOVE_PATIENCE_MS;
    const retry = (error: unknown, refused: Command): Promise<unknown> => {
      if (!this.mayResend(error, deadline)) throw error;
      return this.afterPause(error as Error).then(() => {
        const copy = copyOf(refused);
        WATCHED.add(copy);
        return (super.sendCommand(copy) as Promise<unknown>).catch((e: unknown) => retry(e, copy));
      });
    };
    return sent.catch((error: unknown) => retry(error, command));
  }

  /** Appends the slot guard to the keys of an EVAL or EVALSHA, once. */
  private guardScriptCall(command: Command): void {
    const name = command.name.toLowerCase();
    if (name !== 'evalsha' && name !== 'eval' && name !== 'evalsha_ro' && name !== 'eval_ro') return;
    const args = command.args;
    const count = Number(args[1]);
    if (!Number.isInteger(count) || count < 1) return;
    if (String(args[1 + count]) === this.slotGuard) return;
    args.splice(2 + count, 0, this.slotGuard);
    args[1] = String(count + 1);
  }

  private mayResend(error: unknown, deadline: number): boolean {
    return error instanceof Error && isRefusal(error) && Date.now() < deadline && this.status !== 'end';
  }

  /** A pause before a refused command goes again, with the slot map refreshed after a MOVED. */
  private async afterPause(error: Error): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, REFUSAL_PAUSE_MS));
    if (/MOVED/.test(error.message)) await this.updateSlotsAfterMoved();
  }

  /**
   * The commands of a pipeline that were refused (so did not run) are sent again, once the slot map is updated after
   * a MOVED, in a pipeline of their own, with the pipeline's `WAIT` (a durable enqueue's) after them; their replies
   * take the place of the refusals. ioredis resends a pipeline only when all its commands met the same error and none
   * that writes succeeded: a keyless `WAIT` (routed to the slot's old node) succeeded and stopped it, which left a
   * client sending every durable enqueue to a node that no longer served the slot after a failover; and while the
   * slot moves, the commands of one pipeline meet different answers (a key already moved: ASK; a script: TRYAGAIN).
   * A pipeline is not a transaction: the commands that ran are not run again, so each runs once.
   */
  override pipeline(commands?: unknown[][]): ReturnType<Cluster['pipeline']> {
    return this.resendingPipeline(commands, Date.now() + SLOT_MOVE_PATIENCE_MS);
  }

  private resendingPipeline(
    commands: unknown[][] | undefined,
    deadline: number,
  ): ReturnType<Cluster['pipeline']> {
    const pipeline = super.pipeline(commands as Parameters<Cluster['pipeline']>[0]);
    const exec = pipeline.exec.bind(pipeline);
    let running = false;
    pipeline.exec = (async () => {
      if (running) return exec();
      running = true;
      const results = await exec();
      if (!results) return results;
      // The ASKING commands ioredis adds on its own resends have no place in the results.
      const sent = (pipeline as unknown as { _queue: Command[] })._queue.filter(
        (command) => !(command as { ignore?: boolean }).ignore,
      );
      const refused = sent.flatMap((_, i) => {
        const error = results[i]?.[0];
        return error && isRefusal(error) ? [i] : [];
      });
      if (refused.length === 0) return results;
      const refusal = refusalAmong(refused.map((i) => results[i]![0]!));
      if (!this.mayResend(refusal, deadline)) return results;
      await this.afterPause(refusal);
      const first = refused[0]!;
      const again = sent.flatMap((command, i) =>
        refused.includes(i) || (i > first && command.name.toLowerCase() === 'wait') ? [i] : [],
      );
      const resend = this.resendingPipeline(undefined, deadline);
      for (const i of again) sendTo(resend, copyOf(sent[i]!));
      const replies = (await resend.exec()) ?? [];
      for (const [k, i] of again.entries())
        results[i] = replies[k] ?? [new Error('Redis pipeline was discarded'), undefined];
      return results;
    }) as typeof pipeline.exec;
    return pipeline;
  }

  private resendingMulti(args: unknown[], deadline: number): ReturnType<Cluster['multi']> {
    const multi = (super.multi as (...a: unknown[]) => ReturnType<Cluster['multi']>)(...args);
    if (!multi || typeof (multi as { exec?: unknown }).exec !== 'function') return multi;
    const exec = multi.exec.bind(multi);
    let running = false;
    multi.exec = (async () => {
      if (running) return exec();
      running = true;
      try {
        return await exec();
      } catch (error) {
        if (
          !(error instanceof Error) ||
          !transactionRefused(error) ||
          !this.mayResend(refusalIn(error), deadline)
        )
          throw error;
        await this.afterPause(refusalIn(error));
        const queue = (multi as unknown as { _queue: Command[] })._queue;
        const again = this.resendingMulti([], deadline);
        for (const command of queue)
          if (!TRANSACTION_FRAME.has(command.name.toLowerCase())) sendTo(again, copyOf(command));
        return await again.exec();
      }
    }) as typeof multi.exec;
    return multi;
  }

  private updateSlotsAfterMoved(): Promise<void> {
    const cluster = this as unknown as { refreshSlotsCache(callback: (error?: Error) => void): void };
    return new Promise((resolve) => cluster.refreshSlotsCache(() => resolve()));
  }

  override duplicate(
    overrideStartupNodes: ClusterNode[] = [],
    overrideOptions: ClusterOptions = {},
  ): Cluster {
    return new OneSlotCluster(
      overrideStartupNodes.length > 0 ? overrideStartupNodes : this.nodesAtStartUp,
      { ...this.clusterOptions, ...overrideOptions },
      this.namespace,
    );
  }
}

/**
 * How long a command refused while the slot moves is sent again (from its first sending): a slot move that lasts
 * longer reaches the callers as the refusal. docs/cluster.md says to move a namespace's slot with large batches.
 */
export const SLOT_MOVE_PATIENCE_MS = 30_000;
const REFUSAL_PAUSE_MS = 50;
/** Commands whose refusals are answered already (see sendCommand). */
const WATCHED = new WeakSet<Command>();
const TRANSACTION_FRAME = new Set(['multi', 'exec', 'asking']);

/** Redis's replies that say a command was not run, and where (or when) to send it again. */
const REFUSAL = /^(?:Too many Cluster redirections\. Last error: (?:ReplyError: )?)?(?:MOVED|ASK|TRYAGAIN)\b/;

/**
 * ioredis's give-up after its redirections, when the last error was NOSCRIPT (the slot's new primary had not cached the
 * script): the call did not run; sent again, it meets NOSCRIPT on its own, which the caller answers with the source.
 */
const NOSCRIPT_AFTER_REDIRECTIONS =
  /^Too many Cluster redirections\. Last error: (?:ReplyError: )?NOSCRIPT\b/;

function isRefusal(error: Error): boolean {
  return REFUSAL.test(error.message) || NOSCRIPT_AFTER_REDIRECTIONS.test(error.message);
}

/** The refusal to act on among several: a MOVED first (the slot map needs updating), else any. */
function refusalAmong(errors: readonly Error[]): Error {
  return errors.find((error) => /MOVED/.test(error.message)) ?? errors[0]!;
}

/** EXEC refused (the transaction was discarded), or EXECABORT after its commands met only refusals. */
function transactionRefused(error: Error): boolean {
  if (isRefusal(error)) return true;
  if (!error.message.startsWith('EXECABORT')) return false;
  const previous = (error as { previousErrors?: Error[] }).previousErrors ?? [];
  return previous.length > 0 && previous.every(isRefusal);
}

function refusalIn(error: Error): Error {
  if (isRefusal(error)) return error;
  const previous = (error as { previousErrors?: Error[] }).previousErrors ?? [];
  return previous.length > 0 ? refusalAmong(previous) : error;
}

/**
 * A fresh copy of a command: its name as written (a command sent with `call`, such as `WAIT`, is no pipeline method),
 * its arguments (a script call's slot guard included), and its reply encoding (a Buffer command's).
 */
function copyOf(command: Command): Command {
  const { replyEncoding } = command as unknown as { replyEncoding?: BufferEncoding | null };
  return new Command(command.name, command.args, { replyEncoding });
}

function sendTo(pipeline: unknown, command: Command): void {
  (pipeline as { sendCommand(command: Command): unknown }).sendCommand(command);
}

/** The connection is a one-slot cluster client (resque-ts passes it around typed as a Redis). */
export function isOneSlotCluster(redis: unknown): redis is OneSlotCluster {
  return redis instanceof OneSlotCluster;
}

/** What to change when a plain connection reaches a cluster node. */
export const CLUSTER_NODE_ADVICE =
  'this Redis is a cluster node: use redis+cluster://host:port (or the cluster option) and a {tagged} namespace such as "{resque}"';

/** What to change when a cluster connection reaches a Redis without cluster support. */
export const NOT_A_CLUSTER_ADVICE =
  'this Redis is not a cluster node (cluster support disabled): use redis://host:port, without +cluster';

/** Errors a cluster node gives a client that does not follow the cluster's slots. */
const CLUSTER_REPLY = /^(MOVED|ASK|CROSSSLOT)\b|non local key in a cluster node|do not hash to the same slot/;

/** A command's error that says a plain connection is talking to a cluster node. */
export function isClusterNodeReply(error: Error): boolean {
  return error.name === 'ReplyError' && CLUSTER_REPLY.test(error.message);
}

/** A cluster connection's start-up error that says the node has no cluster support. */
export function isClusterDisabledError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const last = (error as { lastNodeError?: unknown }).lastNodeError;
  return (
    /cluster support disabled/i.test(error.message) || (last !== undefined && isClusterDisabledError(last))
  );
}
