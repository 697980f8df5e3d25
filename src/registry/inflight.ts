/** The value of a slot's in-flight key: `token(16) + "\n" + queue + "\n" + raw item`. */
export interface InflightJob {
  token: string;
  queue: string;
  raw: string;
}

export const TOKEN_LENGTH = 16;

export function parseInflight(value: string | null): InflightJob | undefined {
  if (!value || value.length < TOKEN_LENGTH + 2) return undefined;
  const queueEnd = value.indexOf('\n', TOKEN_LENGTH + 1);
  if (queueEnd < 0) return undefined;
  return {
    token: value.slice(0, TOKEN_LENGTH),
    queue: value.slice(TOKEN_LENGTH + 1, queueEnd),
    raw: value.slice(queueEnd + 1),
  };
}
