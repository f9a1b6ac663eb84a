// No zod here: the console's sign-in page shows these sentences, and zod stays off its first
// screen (the settings schemas are in sso.ts).

/**
 * Why an SSO sign-in was refused: the `sso_error` query parameter of the console page the
 * browser is sent back to, with the sentence the console shows.
 */
export const ssoErrorMessages = {
  not_configured: "Single sign-on is not set up for this organisation.",
  disabled: "Single sign-on is turned off for this organisation.",
  issuer_unreachable:
    "The identity provider could not be reached. Try again later or ask an admin.",
  issuer_invalid:
    "The identity provider's configuration is invalid. Ask an admin to check the issuer.",
  expired: "The sign-in took too long or was started in another browser. Start again.",
  state_mismatch: "The sign-in response did not match this browser's request (state). Start again.",
  replayed: "This sign-in response was already used. Start again.",
  nonce_mismatch: "The identity provider's token did not match this sign-in (nonce). Start again.",
  wrong_issuer: "The token came from another identity provider than this organisation's.",
  wrong_audience: "The token was issued to another application (audience).",
  code_rejected: "The identity provider refused the sign-in code. Start again.",
  provider_error: "The identity provider refused the sign-in.",
  invalid_token: "The identity provider's token could not be verified.",
  email_missing: "The identity provider did not share a verified email address.",
  email_domain: "Your email address is not in a domain this organisation allows.",
  no_role: "Your groups give you no role in this organisation. Ask an admin.",
  last_admin:
    "Your groups would remove the organisation's last admin; ask an admin to fix the mapping.",
  email_taken: "This email is already linked to another identity of this provider.",
} as const;
export type SsoErrorCode = keyof typeof ssoErrorMessages;
export const ssoErrorCodes = Object.keys(ssoErrorMessages) as SsoErrorCode[];
