/** Credential generators for tools outside the API that provision access (the bench, seeding). */
export { generateApiKey } from "./api-keys.ts";
export { generatePersonalAccessToken } from "./personal-access-tokens.ts";
