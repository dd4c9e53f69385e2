import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

/** Absolute path of a file in the package's proto/ folder; the same from src/ (tests) and dist/ (built). */
export const protoFile = (name: string): string => join(PROTO_DIR, name);

/** Loads a .proto from proto/, resolving its imports against proto/ as protoc's include path would. */
export function loadProto(name: string): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(PROTO_DIR, target));
  return root.loadSync(name);
}
