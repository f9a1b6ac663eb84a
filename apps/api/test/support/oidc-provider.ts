/// <reference path="./oidc-provider-module.d.ts" />
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

/**
 * A real OpenID provider for the single sign-on tests (issue 20): `oidc-provider` on
 * 127.0.0.1 and a free port, with two confidential clients (`auditlog` and `other-app`, both
 * allowed to redirect to `redirectUri`), PKCE, and a one-field login page (the username is an
 * account of `accounts`, whose claims the test may change between sign-ins: email, name,
 * groups). `tamperIdToken` makes the token endpoint answer an ID token re-signed with the
 * provider's own key but another audience or issuer: what a hostile or confused provider would
 * send, which the API must refuse.
 */

export interface TestAccount {
  email: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  otherClientId: string;
  accounts: Map<string, TestAccount>;
  /** Set to change the next ID tokens' claims (null: untouched). */
  tamperIdToken: Record<string, unknown> | null;
  /** Set to rewrite the provider's redirect back to the client (what an attacker would forge). */
  rewriteCallback: ((url: URL) => void) | null;
  stop(): Promise<void>;
}

function base64url(value: Buffer | string): string {
  return Buffer.from(value).toString("base64url");
}

/** `token` with its payload changed by `changes`, signed again with `key` (RS256). */
function resign(token: string, changes: Record<string, unknown>, key: KeyObject, kid: string) {
  const [, payload] = token.split(".");
  const claims = { ...JSON.parse(Buffer.from(payload ?? "", "base64url").toString()), ...changes };
  const head = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid }));
  const body = base64url(JSON.stringify(claims));
  const signature = sign("sha256", Buffer.from(`${head}.${body}`), key);
  return `${head}.${body}.${base64url(signature)}`;
}

async function readForm(req: import("node:http").IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function startTestProvider(options: { redirectUri: string }): Promise<TestProvider> {
  let handler: (
    req: import("node:http").IncomingMessage,
    res: import("node:http").ServerResponse,
  ) => void = (_req, res) => res.writeHead(503).end();
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = `test-${randomBytes(4).toString("hex")}`;
  const jwk = { ...privateKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
  const clientSecret = randomBytes(24).toString("base64url");
  const accounts = new Map<string, TestAccount>();
  const client = (id: string) => ({
    client_id: id,
    client_secret: clientSecret,
    redirect_uris: [options.redirectUri],
    response_types: ["code"],
    grant_types: ["authorization_code"],
    token_endpoint_auth_method: "client_secret_basic",
  });
  const provider = new Provider(issuer, {
    clients: [client("auditlog"), client("other-app")],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(16).toString("hex")] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "groups"] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
    },
    async findAccount(_ctx: unknown, id: string) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        claims: async () => ({ sub: id, email_verified: true, ...account }),
      };
    },
  });
  const state: TestProvider = {
    issuer,
    clientId: "auditlog",
    clientSecret,
    otherClientId: "other-app",
    accounts,
    tamperIdToken: null,
    rewriteCallback: null,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  provider.use(async (ctx, next) => {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(ctx.path);
    if (!match) {
      await next();
      const koa = ctx as unknown as {
        response: { get(name: string): string };
        set(name: string, value: string): void;
      };
      const location = koa.response.get("Location");
      if (state.rewriteCallback && location?.startsWith(options.redirectUri)) {
        const url = new URL(location);
        state.rewriteCallback(url);
        koa.set("Location", url.href);
      }
      const body = ctx.body as { id_token?: string } | undefined;
      if (ctx.path === "/token" && state.tamperIdToken && body?.id_token) {
        body.id_token = resign(body.id_token, state.tamperIdToken, privateKey, kid);
      }
      return;
    }
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (ctx.method === "GET") {
      ctx.type = "html";
      ctx.body = `<!doctype html><html lang="en"><head><title>Test identity provider</title></head><body>
<main><h1>Test identity provider</h1><p>Signing in to ${escapeHtml(details.params.client_id ?? "")}</p>
<form method="post" action="/interaction/${details.uid}">
<label>Username <input name="login" autocomplete="username"></label>
<button type="submit">Continue</button></form></main></body></html>`;
      return;
    }
    const form = await readForm(ctx.req);
    const accountId = form.get("login") ?? "";
    if (!accounts.has(accountId)) {
      ctx.status = 400;
      ctx.type = "text";
      ctx.body = "unknown account";
      return;
    }
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id ?? "" });
    grant.addOIDCScope(details.params.scope ?? "openid");
    const grantId = await grant.save();
    const redirect = await provider.interactionResult(
      ctx.req,
      ctx.res,
      { login: { accountId }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
    ctx.status = 303;
    ctx.redirect(redirect);
  });
  const callback = provider.callback();
  handler = (req, res) => callback(req, res);
  return state;
}
