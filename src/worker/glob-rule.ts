/**
 * A Ruby `File.fnmatch?` pattern (queue-patterns.ts) as a rule Lua can test, for the scripts that pick queues from
 * the non-empty index and announce pushes to workers listening with a glob: '1' when a name that starts with `.`
 * cannot match (the pattern does not start with a `.` of its own, as Ruby requires), else '0', then an anchored Lua
 * pattern. `?` and a negated class match one UTF-8 character, as Ruby's do; the characters listed in a bracket class
 * are compared as bytes, so a class is exact when it lists ASCII characters. Built as bytes: the pattern holds bytes
 * that are not valid UTF-8 on their own.
 */
export function globRule(pattern: string): Buffer {
  const parts: Buffer[] = [];
  const raw = (text: string) => parts.push(Buffer.from(text, 'latin1'));
  const literal = (c: string) => {
    if (LUA_MAGIC.has(c)) raw(`%${c}`);
    else parts.push(Buffer.from(c, 'utf8'));
  };
  /** A character in a Lua set: `%` and `]` are escaped there. */
  const member = (c: string) => {
    if (SET_ESCAPED.has(c)) raw(`%${c}`);
    else parts.push(Buffer.from(c, 'utf8'));
  };
  /**
   * A range in a Lua set. An escaped character cannot start or end one there (`[%%-9]` is `%`, `-` and `9`): such an
   * end is listed on its own and the range goes on from its neighbour.
   */
  const range = (from: string, to: string) => {
    let low = from.codePointAt(0)!;
    let high = to.codePointAt(0)!;
    if ((!SET_ESCAPED.has(from) && !SET_ESCAPED.has(to)) || low > high) {
      for (const c of [from, '-', to]) member(c);
      return;
    }
    if (SET_ESCAPED.has(from)) {
      member(from);
      low++;
    }
    if (SET_ESCAPED.has(to) && high >= low) {
      member(to);
      high--;
    }
    if (low <= high)
      parts.push(Buffer.from(`${String.fromCodePoint(low)}-${String.fromCodePoint(high)}`, 'utf8'));
  };
  raw(matchesLeadingDot(pattern) ? '0^' : '1^');
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') raw('.*');
    else if (c === '?') raw('[%z\x01-\x7f\xc2-\xf4][\x80-\xbf]*');
    else if (c === '\\' && i + 1 < chars.length) literal(chars[++i]!);
    else if (c === '[') {
      const end = chars.indexOf(']', i + 2);
      if (end < 0) {
        literal('[');
        continue;
      }
      let body = chars.slice(i + 1, end);
      const negated = body[0] === '!' || body[0] === '^';
      if (negated) body = body.slice(1);
      raw(negated ? '[^' : '[');
      for (let k = 0; k < body.length; k++) {
        if (body[k + 1] === '-' && k + 2 < body.length) {
          range(body[k]!, body[k + 2]!);
          k += 2;
        } else member(body[k]!);
      }
      // A negated class matches a whole character: its lead byte, then any continuation bytes.
      raw(negated ? '][\x80-\xbf]*' : ']');
      i = end;
    } else literal(c);
  }
  raw('$');
  return Buffer.concat(parts);
}

/**
 * Whether a name that starts with `.` can match: Ruby's fnmatch requires the pattern's first character, unescaped, to
 * be that `.`; a wildcard or a class there never matches it.
 */
export function matchesLeadingDot(pattern: string): boolean {
  return (pattern.startsWith('\\') ? pattern[1] : pattern[0]) === '.';
}

/** The characters before a pattern's first wildcard, unescaped: every name it matches starts with them. */
export function literalPrefix(pattern: string): string {
  let prefix = '';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*' || c === '?' || c === '[') break;
    if (c === '\\' && i + 1 < chars.length) prefix += chars[++i]!;
    else prefix += c;
  }
  return prefix;
}

/** Whether a pattern has a wildcard at all (else it names one queue, once unescaped). */
export function hasWildcard(pattern: string): boolean {
  return literalPrefix(pattern) !== unescapeGlob(pattern);
}

export function unescapeGlob(pattern: string): string {
  return pattern.replace(/\\([\s\S])/g, '$1');
}

const SET_ESCAPED = new Set(['%', ']']);
const LUA_MAGIC = new Set(['^', '$', '(', ')', '%', '.', '[', ']', '*', '+', '-', '?']);
