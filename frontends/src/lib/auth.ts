/** Sign-in with Keycloak (authorization code + PKCE) through oidc-client-ts. */
import { UserManager, WebStorageStateStore, type User } from "oidc-client-ts";

export type AppName = "hpa" | "pa" | "ops";

interface WebConfig {
  authority: string;
  client_id: string;
}

export interface ReturnState {
  returnTo: string;
}

export async function createUserManager(app: AppName): Promise<UserManager> {
  const response = await fetch("/v1/web/config");
  if (!response.ok) throw new Error(`sign-in settings unavailable (${response.status})`);
  const config = (await response.json()) as WebConfig;
  const home = `${window.location.origin}/${app}/`;
  return new UserManager({
    authority: config.authority,
    client_id: config.client_id,
    redirect_uri: home,
    post_logout_redirect_uri: home,
    response_type: "code",
    scope: "openid",
    // Renewed with the refresh token shortly before the access token expires.
    automaticSilentRenew: true,
    // Tab-scoped: closing the tab forgets the tokens.
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
  });
}

/** Completes a sign-in when the page is Keycloak's redirect back; returns the user. */
export async function completeSignIn(manager: UserManager): Promise<User | null> {
  const params = new URLSearchParams(window.location.search);
  if (params.has("state") && (params.has("code") || params.has("error"))) {
    try {
      const user = await manager.signinRedirectCallback();
      const state = user.state as ReturnState | undefined;
      window.history.replaceState(null, "", state?.returnTo ?? window.location.pathname);
      return user;
    } catch {
      window.history.replaceState(null, "", window.location.pathname);
      return null;
    }
  }
  const user = await manager.getUser();
  if (user === null || !user.expired) return user;
  // Back after the access token expired: the refresh token may still renew it quietly.
  try {
    return await manager.signinSilent();
  } catch {
    await manager.removeUser();
    return null;
  }
}

export function signIn(manager: UserManager): Promise<void> {
  const returnTo = `${window.location.pathname}${window.location.hash}`;
  return manager.signinRedirect({ state: { returnTo } satisfies ReturnState });
}
