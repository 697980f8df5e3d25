/** Plain aligned columns for humans; scripts use --json. */
export function printTable(out: NodeJS.WritableStream, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  out.write(`${line(header.map((h) => h.toUpperCase()))}\n`);
  for (const row of rows) out.write(`${line(row)}\n`);
}
