import { resolveConfig } from '../../config/resolve.js';
import { checkClusterNamespace, isClusterUrl } from '../../redis/cluster.js';
import { asConnectionError, checkClusterMode, openRedis } from '../../redis/connection.js';
import { type MigrationReport, migrateToCluster } from '../../redis/migrate-to-cluster.js';
import { type Command, EXIT, UsageError } from '../command.js';
import { exitCodeOf, positiveInteger, stringOption, writeJson } from './support.js';

/**
 * `resque migrate-to-cluster`: copies a namespace from a single Redis into a {tagged} namespace on a Redis Cluster
 * (docs/cluster.md, "Moving a single-Redis deployment"). Both ends are named explicitly; REDIS_URL and
 * RESQUE_NAMESPACE are not read, so the command cannot copy in the wrong direction by default.
 */
export const migrateToClusterCommand: Command = {
  name: 'migrate-to-cluster',
  summary:
    'Copy a namespace from a single Redis into a {tagged} namespace on a Redis Cluster (stop the workers first).',
  usage:
    '--from <url> --to <redis+cluster://…> [--from-namespace resque] [--to-namespace {resque}] [options]',
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    'from-namespace': { type: 'string' },
    'to-namespace': { type: 'string' },
    'dry-run': { type: 'boolean' },
    force: { type: 'boolean' },
    batch: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    from: {
      value: 'url',
      description: 'The single Redis the namespace lives on now (redis://, rediss://, a socket).',
    },
    to: {
      value: 'url',
      description: 'The Redis Cluster to copy it to: redis+cluster://host:port[,host:port…].',
    },
    'from-namespace': { value: 'ns', default: 'resque', description: 'The namespace to copy.' },
    'to-namespace': {
      value: 'ns',
      default: '{<from-namespace>}',
      description: 'The namespace on the cluster; it must carry a hash tag ({resque}) and be empty.',
    },
    'dry-run': { description: 'Count what would be copied, by type; write nothing.' },
    force: {
      description:
        'Copy even with workers registered on the source, or keys already in the target namespace (they are overwritten).',
    },
    batch: {
      value: 'n',
      default: '500',
      description: 'Keys per SCAN, and elements per read and write of one key.',
    },
    json: { description: 'Print the report as JSON.' },
  },
  check({ values, positionals }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const from = stringOption(values, 'from');
    const to = stringOption(values, 'to');
    if (!from) throw new UsageError('--from is required: the single Redis to copy from');
    if (!to)
      throw new UsageError('--to is required: the Redis Cluster to copy to (redis+cluster://host:port)');
    if (isClusterUrl(from))
      throw new UsageError('--from must be the single Redis the namespace lives on now, not a cluster URL');
    if (!isClusterUrl(to))
      throw new UsageError(
        `--to must be a cluster URL (redis+cluster://host:port[,host:port…]), got ${JSON.stringify(to.replace(/\/\/[^@/]*@/, '//'))}`,
      );
    positiveInteger(values, 'batch', 500);
  },
  async run({ values }, io) {
    const fromNamespace = stringOption(values, 'from-namespace') ?? 'resque';
    const toNamespace = stringOption(values, 'to-namespace') ?? `{${fromNamespace.replace(/[{}]/g, '')}}`;
    const toUrl = stringOption(values, 'to')!;
    const fromUrl = stringOption(values, 'from')!;
    let source: ReturnType<typeof openRedis> | undefined;
    let target: ReturnType<typeof openRedis> | undefined;
    try {
      checkClusterNamespace(toNamespace);
      const fromConfig = resolveConfig({ redis: fromUrl, namespace: fromNamespace }, {});
      const toConfig = resolveConfig({ redis: toUrl, namespace: toNamespace }, {});
      source = openRedis(fromConfig, 'client');
      target = openRedis(toConfig, 'client');
      await source.ping().catch((error: unknown) => {
        throw asConnectionError(error, fromUrl);
      });
      await checkClusterMode(target, toConfig).catch((error: unknown) => {
        throw asConnectionError(error, toUrl);
      });
      const report = await migrateToCluster({
        source,
        sourceNamespace: fromNamespace,
        target,
        targetNamespace: toNamespace,
        dryRun: values['dry-run'] === true,
        force: values['force'] === true,
        batchSize: positiveInteger(values, 'batch', 500),
      });
      if (values['json']) writeJson(io, { from: fromNamespace, to: toNamespace, ...report });
      else io.stdout.write(describe(report, fromNamespace, toNamespace));
      return EXIT.ok;
    } catch (error) {
      const code = exitCodeOf(error);
      if (code === undefined) throw error;
      const message = (error as Error).message;
      if (values['json'])
        io.stderr.write(
          `${JSON.stringify({ error: { code: (error as { code?: string }).code ?? 'USAGE', message } })}\n`,
        );
      else io.stderr.write(`resque migrate-to-cluster: ${message}\n`);
      return code;
    } finally {
      source?.disconnect();
      target?.disconnect();
    }
  },
};

function describe(report: MigrationReport, from: string, to: string): string {
  const types = Object.entries(report.byType)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, count]) => `${count} ${type}`)
    .join(', ');
  const verb = report.dryRun ? 'would copy' : 'copied';
  const elements = report.dryRun ? '' : `, ${report.elements} elements`;
  return `${verb} ${report.keys} keys from ${from} to ${to} (${types || 'none'}; ${report.withTtl} with a TTL${elements})\n`;
}
