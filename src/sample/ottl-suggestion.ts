// edge-relay has no OTTL engine. Rather than a bare refusal, the validation error names the policy that
// expresses the most common OTTL conditions, so a pasted Collector config is a short edit away.

const ATTRIBUTE = String.raw`^(?:span\.|resource\.)?attributes\["([^"]+)"\]\s*`;
const RULES: [RegExp, (m: RegExpMatchArray) => string][] = [
  [
    new RegExp(`${ATTRIBUTE}==\\s*"([^"]*)"$`),
    (m) => `string_attribute: {key: ${m[1]}, values: [${JSON.stringify(m[2])}]}`,
  ],
  [new RegExp(`${ATTRIBUTE}==\\s*(true|false)$`), (m) => `boolean_attribute: {key: ${m[1]}, value: ${m[2]}}`],
  [
    new RegExp(`${ATTRIBUTE}(>=|>|<=|<|==)\\s*(-?\\d+(?:\\.\\d+)?)$`),
    (m) => {
      const bound = m[2]?.startsWith('>') ? 'min_value' : m[2]?.startsWith('<') ? 'max_value' : 'both';
      const range = bound === 'both' ? `min_value: ${m[3]}, max_value: ${m[3]}` : `${bound}: ${m[3]}`;
      return `numeric_attribute: {key: ${m[1]}, ${range}}`;
    },
  ],
  [
    /^(?:span\.)?status\.code\s*==\s*STATUS_CODE_(ERROR|OK|UNSET)$/,
    (m) => `status_code: {status_codes: [${m[1]}]}`,
  ],
];

/** The hint appended to the refusal of an ottl_condition policy. */
export function suggestForOttl(settings: unknown): string {
  const { span = [], spanevent = [] } = (settings ?? {}) as { span?: unknown[]; spanevent?: unknown[] };
  for (const condition of [...span, ...spanevent]) {
    for (const [pattern, suggest] of RULES) {
      const match = String(condition).trim().match(pattern);
      if (match) return `the condition ${JSON.stringify(condition)} is the policy ${suggest(match)}`;
    }
  }
  return (
    'express the condition with string_attribute, numeric_attribute, boolean_attribute, status_code, ' +
    'latency or span_count policies, combined with and / not / drop (see docs/sampling.md)'
  );
}
