/**
 * Shim of the EdgeWorkers `log` built-in module. On Akamai, `logger` writes only when logging is enabled
 * for the request (enhanced debug headers, or a DataStream log configuration) and is a no-op otherwise;
 * here, lines go to the array `useLog` installs, and nowhere without one.
 */

export interface LogLine {
  level: 'log' | 'debug' | 'info' | 'warn' | 'error' | 'trace';
  message: string;
}

// Kept on globalThis: every handler loads a fresh copy of the worker's modules, this one included.
const LINES = Symbol.for('edge-relay.edgeworkers-shim.log');
const slot = globalThis as { [LINES]?: LogLine[] | undefined };

/** Enables logging into `lines`; undefined disables it. */
export function useLog(lines: LogLine[] | undefined): void {
  slot[LINES] = lines;
}

/** The format specifiers of the WHATWG console: %s, %d and %i, %f, %o and %O. */
function format(template: string, values: unknown[]): string {
  let next = 0;
  return template.replace(/%([sdifoO%])/g, (all, spec: string) => {
    if (spec === '%') return '%';
    if (next >= values.length) return all;
    const value = values[next++];
    if (spec === 's') return String(value);
    if (spec === 'd' || spec === 'i') return String(Number.parseInt(String(value), 10));
    if (spec === 'f') return String(Number.parseFloat(String(value)));
    return JSON.stringify(value);
  });
}

const write =
  (level: LogLine['level']) =>
  (template: string, ...values: unknown[]): void => {
    // Disabled logging processes nothing, not even the format string.
    slot[LINES]?.push({ level, message: format(template, values) });
  };

export const logger: Record<LogLine['level'], (template: string, ...values: unknown[]) => void> = {
  log: write('log'),
  debug: write('debug'),
  info: write('info'),
  warn: write('warn'),
  error: write('error'),
  trace: write('trace'),
};
