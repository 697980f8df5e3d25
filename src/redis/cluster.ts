import calculateSlot from 'cluster-key-slot';
import { Cluster, type ClusterNode, type ClusterOptions, Command } from 'ioredis';
import { ConfigError } from '../errors/index.js';

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
 */
export class OneSlotCluster extends Cluster {
  /** The namespace's slot. */
  readonly slot: number;

  constructor(
    readonly nodesAtStartUp: ClusterNode[],
    readonly clusterOptions: ClusterOptions,
    readonly namespace: string,
  ) {
    super(nodesAtStartUp, clusterOptions);
    this.slot = calculateSlot(`${namespace}:`);
  }

  override sendCommand(
    command: Command,
    stream?: Parameters<Cluster['sendCommand']>[1],
    node?: unknown,
  ): unknown {
    if (node === undefined && command.getSlot() === null) {
      const slot = this.slot;
      command.getSlot = () => slot;
    }
    return super.sendCommand(command, stream, node);
  }

  /**
   * A pipeline whose keyed commands all met MOVED (so none of them ran) is sent again once the slot map is updated.
   * ioredis does that only when no command of the pipeline succeeded; a keyless command runs wherever it lands (the
   * `WAIT` of a durable enqueue, routed to the slot's old node), succeeds there and stops it, which left a client
   * sending every durable enqueue to a node that no longer served the slot after a failover.
   */
  override pipeline(commands?: unknown[][]): ReturnType<Cluster['pipeline']> {
    return this.resendingPipeline(commands, 0);
  }

  /** `resends`: how many times these commands were sent again already (a bound per pipeline, not per client). */
  private resendingPipeline(
    commands: unknown[][] | undefined,
    resends: number,
  ): ReturnType<Cluster['pipeline']> {
    const pipeline = super.pipeline(commands as Parameters<Cluster['pipeline']>[0]);
    const exec = pipeline.exec.bind(pipeline);
    let running = false;
    pipeline.exec = (async () => {
      if (running) return exec();
      running = true;
      const results = await exec();
      const queue = (pipeline as unknown as { _queue: Command[] })._queue;
      if (!results || !allKeyedCommandsMoved(queue, results)) return results;
      await this.updateSlotsAfterMoved();
      if (resends >= MAX_PIPELINE_RESENDS) return results;
      return await this.resend(queue, resends + 1).exec();
    }) as typeof pipeline.exec;
    return pipeline;
  }

  /**
   * A new pipeline of the same commands. Copies of the commands, not method calls by name: a command sent with `call`
   * keeps its name as written (`WAIT`, which is no pipeline method), and a Buffer command its reply encoding.
   */
  private resend(queue: readonly Command[], resends: number): ReturnType<Cluster['pipeline']> {
    const pipeline = this.resendingPipeline(undefined, resends);
    const sink = pipeline as unknown as { sendCommand(command: Command): unknown };
    for (const command of queue) {
      const { replyEncoding } = command as unknown as { replyEncoding?: BufferEncoding | null };
      sink.sendCommand(new Command(command.name, command.args, { replyEncoding }));
    }
    return pipeline;
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

const MAX_PIPELINE_RESENDS = 3;

function allKeyedCommandsMoved(queue: readonly Command[], results: [Error | null, unknown][]): boolean {
  let moved = false;
  for (const [i, command] of queue.entries()) {
    if (command.getKeys().length === 0) continue;
    const error = results[i]?.[0];
    if (!error?.message.startsWith('MOVED ')) return false;
    moved = true;
  }
  return moved;
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
