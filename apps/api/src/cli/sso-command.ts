import { findOrgSsoConfig } from "@auditlog/db";
import type { SsoConfig, SsoConfigInput } from "@auditlog/events";
import type { ApiActor } from "../audit-log/record-api-action.ts";
import { ApiError } from "../errors.ts";
import {
  readSsoConfig,
  removeSsoConfig,
  type SsoServices,
  saveSsoConfig,
} from "../sso/sso-service.ts";
import { CliFlagError } from "./cli-flag-error.ts";
import { readSecretFlag, secretFlagHint } from "./secret-flags.ts";

export const ssoUsage = `  pnpm auditlog sso show --org <slug> [--json]
  pnpm auditlog sso set --org <slug> --issuer <url> --client-id <id>
      [--client-secret-file <path> | --client-secret-stdin] --allowed-domains <a.com,b.com>
      [--role-claim <claim>] [--role-rule <value>=<role>]... [--default-role <role|none>] [--json]
  pnpm auditlog sso require --org <slug> <on|off> [--json]
  pnpm auditlog sso enable|disable --org <slug> [--json]
  pnpm auditlog sso remove --org <slug> [--json]`;

/** The options `sso …` reads (parseArgs values). */
export interface SsoFlags {
  issuer?: string;
  "client-id"?: string;
  "client-secret-file"?: string;
  "client-secret-stdin"?: boolean;
  "allowed-domains"?: string;
  "role-claim"?: string;
  "role-rule"?: string[];
  "default-role"?: string;
}

type Org = { id: string; slug: string; name: string };

const ordinal = (index: number) => `the ${index + 1}${["st", "nd", "rd"][index] ?? "th"}`;

/** The flag an API field comes from: `allowedDomains.1` → `--allowed-domains ("b c")`. */
export function flagOfPath(path: string, flags: SsoFlags): string {
  const [field, index] = path.split(".");
  const at = index === undefined ? -1 : Number(index);
  switch (field) {
    case "issuer":
      return "--issuer";
    case "clientId":
      return "--client-id";
    case "clientSecret":
      return secretFlagHint("client-secret");
    case "allowedDomains": {
      const value = domainsOf(flags["allowed-domains"])[at];
      return value === undefined
        ? "--allowed-domains"
        : `--allowed-domains (${JSON.stringify(value)})`;
    }
    case "roleClaim":
      return "--role-claim";
    case "roleRules": {
      const rule = flags["role-rule"]?.[at];
      return rule === undefined
        ? "--role-rule"
        : `--role-rule ${JSON.stringify(rule)} (${ordinal(at)})`;
    }
    case "defaultRole":
      return "--default-role";
    case "requireSso":
      return "sso require";
    case "enabled":
      return "sso enable/disable";
    default:
      return `--${path}`;
  }
}

/** The API's refusal (every field it names) as the flags the operator gave. */
function asFlagError(flags: SsoFlags) {
  return (error: unknown): never => {
    if (error instanceof ApiError && error.status === 400 && error.details?.length) {
      throw new CliFlagError(
        error.details
          .map((detail) => `${flagOfPath(detail.path, flags)} ${detail.message}`)
          .join("; "),
      );
    }
    throw error;
  };
}

function domainsOf(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(",").map((domain) => domain.trim());
}

/** `value=role`, split at the last `=` (a group's value may hold `=` and `,`, a role neither). */
function ruleOf(text: string): { value: string; role: string } {
  const at = text.lastIndexOf("=");
  if (at < 0) {
    throw new CliFlagError(
      `--role-rule ${JSON.stringify(text)} must be <claim value>=<role>, e.g. auditlog-admins=admin`,
    );
  }
  return { value: text.slice(0, at), role: text.slice(at + 1) };
}

/**
 * The PUT body the flags describe: the whole configuration, as the API's PUT takes it. What
 * has commands of its own (`sso require`, `enable`, `disable`) keeps its stored value; the
 * secret, when not given, keeps the stored one (the API's rule).
 */
export function ssoBodyFromFlags(
  flags: SsoFlags,
  kept: { requireSso: boolean; enabled: boolean },
  clientSecret: string | undefined,
): SsoConfigInput {
  const defaultRole = flags["default-role"];
  return {
    issuer: flags.issuer as string,
    clientId: flags["client-id"] as string,
    ...(clientSecret !== undefined ? { clientSecret } : {}),
    allowedDomains: domainsOf(flags["allowed-domains"]),
    ...(flags["role-claim"] !== undefined ? { roleClaim: flags["role-claim"] } : {}),
    roleRules: (flags["role-rule"] ?? []).map(ruleOf),
    defaultRole: defaultRole === undefined || defaultRole === "none" ? null : defaultRole,
    requireSso: kept.requireSso,
    enabled: kept.enabled,
  };
}

/** What an operator reads of the settings: the client secret only as its last four characters. */
export function describeSso(slug: string, config: SsoConfig): string {
  const rules = config.roleRules.map((rule) => `${rule.value}=${rule.role}`).join(", ");
  return [
    `single sign-on of ${slug} (OpenID Connect): ${config.enabled ? "enabled" : "disabled"}, ${
      config.requireSso
        ? "required (members' passwords refused; admins keep theirs, recorded as break-glass)"
        : "not required"
    }`,
    `  issuer           ${config.issuer}`,
    `  client id        ${config.clientId}`,
    `  client secret    …${config.clientSecretHint} (sealed)`,
    `  allowed domains  ${config.allowedDomains.join(", ")}`,
    `  role claim       ${config.roleClaim}`,
    `  role rules       ${rules || "none"}`,
    `  default role     ${config.defaultRole ?? "none (no matching rule: refused)"}`,
    `  redirect URI     ${config.redirectUri}`,
    `  sign-in URL      ${config.signInUrl}`,
    `  updated          ${config.updatedAt}`,
  ].join("\n");
}

function notConfigured(slug: string): CliFlagError {
  return new CliFlagError(
    `${slug} has no single sign-on: set it up first with pnpm auditlog sso set --org ${slug} …`,
  );
}

/**
 * `sso …`: the organisation's OpenID Connect settings through the API's own service (the same
 * checks, the secret sealed with SECRETS_KEY_FILE, every change recorded with the CLI as the
 * actor).
 */
export async function ssoCommand(
  services: SsoServices,
  input: {
    action: string;
    org: Org;
    flags: SsoFlags;
    /** `on` or `off` for `sso require`. */
    subject?: string;
    actor: ApiActor;
    readStdin?: () => string;
  },
): Promise<{ json: Record<string, unknown>; text: string }> {
  const { org, actor, flags } = input;
  const stored = () =>
    readSsoConfig(services, org).catch((error: unknown) => {
      if (error instanceof ApiError && error.status === 404) throw notConfigured(org.slug);
      throw error;
    });
  const save = (body: SsoConfigInput) =>
    saveSsoConfig(services, { org, body, actor, client: {} }).catch(asFlagError(flags));
  const shown = (config: SsoConfig, note?: string) => ({
    json: { org: org.slug, ...config },
    text: `${describeSso(org.slug, config)}${note ? `\n${note}` : ""}`,
  });
  switch (input.action) {
    case "show":
      return shown(await stored());
    case "set": {
      const existing = await findOrgSsoConfig(services.db, org.id);
      const secret = readSecretFlag("client-secret", flags, input.readStdin);
      const body = ssoBodyFromFlags(
        flags,
        { requireSso: existing?.requireSso ?? false, enabled: existing?.enabled ?? true },
        secret,
      );
      return shown(
        await save(body),
        existing ? "updated; recorded in the log" : "created; recorded in the log",
      );
    }
    case "require":
    case "enable":
    case "disable": {
      let field: "requireSso" | "enabled";
      let value: boolean;
      if (input.action === "require") {
        if (input.subject !== "on" && input.subject !== "off") {
          throw new CliFlagError("sso require takes on or off (sso require --org <slug> on)");
        }
        field = "requireSso";
        value = input.subject === "on";
      } else {
        field = "enabled";
        value = input.action === "enable";
      }
      const config = await stored();
      if (config[field] === value) return shown(config, "already so: nothing changed");
      // The stored settings as they are, one toggle changed; the secret left out stays.
      const saved = await save({
        issuer: config.issuer,
        clientId: config.clientId,
        allowedDomains: config.allowedDomains,
        roleClaim: config.roleClaim,
        roleRules: config.roleRules,
        defaultRole: config.defaultRole,
        requireSso: config.requireSso,
        enabled: config.enabled,
        [field]: value,
      });
      return shown(saved, "changed; recorded in the log");
    }
    case "remove": {
      await removeSsoConfig(services, { org, actor, client: {} }).catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 404) throw notConfigured(org.slug);
        throw error;
      });
      return {
        json: { org: org.slug, removed: true },
        text: `single sign-on of ${org.slug} removed (members linked by SSO keep their accounts); recorded in the log`,
      };
    }
    default:
      throw new CliFlagError(`unknown command "sso ${input.action}"`);
  }
}
