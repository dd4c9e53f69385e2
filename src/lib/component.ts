import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { ConfigError } from './errors.ts';

/** A duration key (`"x-duration": true`) holds milliseconds once validated: the keyword rewrites it. */
type Deserialize = { deserialize: [{ pattern: { 'x-duration': true }; output: number }] };

/**
 * The validated form of a section, derived from its JSON Schema, so each key is declared once: keys with a
 * default are always present, durations are numbers of milliseconds.
 */
export type ConfigOf<S extends JSONSchema> = FromSchema<S, Deserialize>;

/**
 * A configurable part of the relay, as in the Collector's component model: the section it owns, the
 * schema that validates it and fills its defaults, and what a schema cannot say. The service gathers
 * every component into the relay's schema; no component reads another's section. `T` is the validated
 * section's type: derived from the schema unless the schema nests beyond what the derivation follows.
 */
export interface Component<K extends string = string, S extends JSONSchema = JSONSchema, T = ConfigOf<S>> {
  readonly key: K;
  readonly schema: S;
  /** Rewrites shorthand forms of the raw section into the schema's form, before validation. */
  expand?(section: unknown): unknown;
  /** Checks what the schema cannot express; throws a ConfigError naming the key. */
  check?(section: T): void;
  /** Rewords an error inside this section for the reader (e.g. naming the list entry); gets the raw tree. */
  explain?(tree: unknown, error: ConfigError): ConfigError;
  /**
   * The section with its secret values (tokens, credential headers) replaced by {@link REDACTED}: what a
   * config digest covers, since even a digest of a short secret can be guessed back.
   */
  redact?(section: T): T;
}

/** What a secret value reads as wherever a config is digested or shown. */
export const REDACTED = '[secret]';

/** Declares a component, keeping its key and schema as literal types for {@link ConfigOf}. */
export function component<const K extends string, const S extends JSONSchema, T = ConfigOf<S>>(
  definition: Component<K, S, T>,
): Component<K, S, T> {
  return definition;
}

/** The validated section a component owns. */
export type SectionOf<C> = C extends Component<string, JSONSchema, infer T> ? T : never;
