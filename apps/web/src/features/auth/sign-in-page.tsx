import { type FormEvent, useState } from "react";
import { ApiRequestError, errorMessage } from "../../api/client.ts";
import { useSignIn } from "./session-queries.ts";

function signInError(error: unknown): string {
  if (error instanceof ApiRequestError) {
    if (error.status === 401) return "The email or password is not correct.";
    if (error.status === 429) return error.message.replace(/^./, (c) => c.toUpperCase());
    if (error.status === 400) return "Enter a valid email address and your password.";
  }
  return errorMessage(error);
}

export function SignInPage() {
  const signIn = useSignIn();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");

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
