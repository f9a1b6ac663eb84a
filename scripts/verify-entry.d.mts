// Types of the standalone auditor script, for the tests that run its functions.
export function canonicalJson(value: unknown): string;
export function entryLeafHash(orgId: string, entry: unknown): Buffer;
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: Uint8Array[],
  root: Uint8Array,
): boolean;
export function verifyConsistency(
  m: number,
  n: number,
  proof: Uint8Array[],
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
): boolean;
export function parseVerifierKey(text: string): { name: string; publicKey: Buffer };
export function openNote(note: string, keys: { name: string; publicKey: Uint8Array }[]): string;
export function verifyEntry(options: {
  api: string;
  org: string;
  entry?: string;
  token?: string;
  key?: string;
  state?: string;
}): Promise<Record<string, unknown>>;
