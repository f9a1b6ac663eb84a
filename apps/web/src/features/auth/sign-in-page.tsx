import { type SsoErrorCode, ssoErrorMessages } from "@auditlog/events/sso-errors";
import { type FormEvent, useState } from "react";
import { ApiRequestError, errorMessage } from "../../api/client.ts";
import { useSignIn } from "./session-queries.ts";

function signInError(error: unknown): string {
  if (error instanceof ApiRequestError) {
    if (error.status === 401) return "The email or password is not correct.";
    if (error.status === 429) return error.message.replace(/^./, (c) => c.toUpperCase());
    if (error.status === 400) return "Enter a valid email address and your password.";
    if (error.status === 403) return error.message.replace(/^./, (c) => c.toUpperCase());
  }
  return errorMessage(error);
}

/** Why the API sent the browser back from a single sign-on (`?sso_error=`), and for which org. */
function ssoRefusal(): { message: string; org: string } | null {
  const params = new URLSearchParams(window.location.search);
  const code = params.get("sso_error");
  if (!code) return null;
  const message =
    code in ssoErrorMessages
      ? ssoErrorMessages[code as SsoErrorCode]
      : "Single sign-on failed. Start again.";
  return { message, org: params.get("org") ?? "" };
}

export function SignInPage() {
  const signIn = useSignIn();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [refusal] = useState(ssoRefusal);
  const [org, setOrg] = useState(refusal?.org ?? "");

  const onSso = (event: FormEvent) => {
    event.preventDefault();
    const slug = org.trim().toLowerCase();
    window.location.assign(`/v1/auth/sso/start?org=${encodeURIComponent(slug)}`);
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate({ email: email.trim(), password });
  };

  return (
    <main className="sign-in">
      <form className="sign-in-card" onSubmit={onSubmit} aria-labelledby="sign-in-title">
        <div className="brand brand-large">
          <Logo />
          <span>Audit logs</span>
        </div>
        <h1 id="sign-in-title">Sign in</h1>
        <p className="muted">Organisation admins can browse, filter and export their audit log.</p>
        <label className="field">
          <span>Email</span>
          <input
            className="input"
            type="email"
            name="email"
            autoComplete="username"
            required
            autoFocus
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            className="input"
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        {signIn.isError ? (
          <p className="notice notice-error" role="alert">
            {signInError(signIn.error)}
          </p>
        ) : null}
        <button
          type="submit"
          className="button button-primary button-block"
          disabled={signIn.isPending}
        >
          {signIn.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {/*
        A navigation, not a form submission: the API redirects to the organisation's provider,
        which the console's CSP (form-action 'self') would block after a submit.
      */}
      <form className="sign-in-card" onSubmit={onSso} aria-labelledby="sso-title">
        <h2 id="sso-title">Single sign-on</h2>
        {refusal ? (
          <p className="notice notice-error" role="alert">
            {refusal.message}
          </p>
        ) : null}
        <label className="field">
          <span>Organisation</span>
          <input
            className="input"
            type="text"
            name="org"
            autoComplete="organization"
            required
            value={org}
            onChange={(event) => setOrg(event.target.value)}
          />
        </label>
        <button type="submit" className="button button-block">
          Sign in with SSO
        </button>
      </form>
    </main>
  );
}

export function Logo() {
  return (
    <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
      <rect width="32" height="32" rx="7" fill="var(--accent)" />
      <path d="M9 10h14M9 16h14M9 22h9" stroke="#fff" strokeWidth="2.6" strokeLinecap="round" />
    </svg>
  );
}
