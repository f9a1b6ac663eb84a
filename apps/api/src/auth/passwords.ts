import { hash, verify } from "@node-rs/argon2";

/**
 * A hash of a random password nobody knows, made with the library's defaults (argon2id,
 * m=19456, t=2, p=1) — the same parameters `hashPassword` and the CLI use — so that checking a
 * password for an unknown email costs the same time as for a known one.
 */
const dummyHash =
  "$argon2id$v=19$m=19456,t=2,p=1$CgmS8Ew2wiIII3I7HrmK7A$pbqATC3vosmlNXqnwQ0kiZOREeN5SkynuSDKW1hLGrI";

/** Longer inputs are refused before hashing: argon2 on megabytes is a cheap denial of service. */
export const maxPasswordLength = 1024;

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/**
 * True when `password` matches `passwordHash`. Without a hash (no such user) a dummy hash is
 * verified anyway and false returned, so response time does not reveal which emails exist.
 */
export async function verifyPassword(
  passwordHash: string | null | undefined,
  password: string,
): Promise<boolean> {
  if (!passwordHash) {
    await verify(dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await verify(passwordHash, password);
  } catch {
    // A malformed stored hash is a failed login, not a 500 that would reveal the account exists.
    return false;
  }
}
