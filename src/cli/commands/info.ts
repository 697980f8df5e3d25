import { Resque } from '../../client/resque.js';
import { CONNECTION_OPTIONS, type Command, EXIT } from '../command.js';
import { printTable } from '../output.js';

export const infoCommand: Command = {
  name: 'info',
  summary: "Resque's summary: pending, processed, queues, workers, working, failed.",
  usage: '[--redis URL] [--namespace NS] [--json]',
  options: CONNECTION_OPTIONS,
  async run({ values }, io) {
    const resque = new Resque({
      redis: values['redis'] as string | undefined,
      namespace: values['namespace'] as string | undefined,
    });
    try {
      const info = await resque.info();
      if (values['json']) io.stdout.write(`${JSON.stringify(info)}\n`);
      else
        printTable(
          io.stdout,
          ['field', 'value'],
          Object.entries(info).map(([k, v]) => [k, Array.isArray(v) ? v.join(' ') : String(v)]),
        );
      return EXIT.ok;
    } finally {
      await resque.close();
    }
  },
};
