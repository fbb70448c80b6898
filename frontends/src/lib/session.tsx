/** The signed-in session every page shares: user, API client, profile, expiry. */
import { QueryClient, QueryClientProvider, useQuery } from "@tanstack/react-query";
import type { User, UserManager } from "oidc-client-ts";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { ApiClient, ApiError, type Language, type Profile, type Role } from "./api";
import { type AppName, completeSignIn, createUserManager, signIn } from "./auth";
import { applyLanguage, isLanguage } from "./i18n";

export interface Session {
  app: AppName;
  manager: UserManager;
  user: User;
  api: ApiClient;
  profile: Profile;
  expired: boolean;
  markExpired: () => void;
  signInAgain: () => void;
  signOut: () => void;
  setLanguage: (language: Language) => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error("useSession outside a signed-in page");
  return session;
}

function queryClient(onExpired: () => void): QueryClient {
  const client: QueryClient = new QueryClient({
    defaultOptions: {
      queries: {
        retry: (count, error) =>
          error instanceof ApiError && [0, 502, 503, 504].includes(error.status) && count < 2,
        refetchOnWindowFocus: false,
      },
    },
  });
  client.getQueryCache().subscribe((event) => {
    const error = event.query.state.error;
    if (error instanceof ApiError && error.status === 401) onExpired();
  });
  return client;
}

interface RootProps {
  app: AppName;
  /** The role, or the roles, this application serves. */
  role: Role | Role[];
  children: ReactNode;
  welcome: ReactNode;
}

type Phase =
  | { kind: "loading" }
  | { kind: "signedOut"; manager: UserManager }
  | { kind: "failed"; message: string }
  | { kind: "signedIn"; manager: UserManager; user: User };

/** Signs in (or offers to), loads the profile, and provides the session to ``children``. */
export function SessionRoot({ app, role, children, welcome }: RootProps) {
  const { t } = useTranslation();
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });

  useEffect(() => {
    let cancelled = false;
    createUserManager(app)
      .then(async (manager) => {
        const user = await completeSignIn(manager);
        if (cancelled) return;
        setPhase(user === null ? { kind: "signedOut", manager } : { kind: "signedIn", manager, user });
      })
      .catch((error: unknown) => setPhase({ kind: "failed", message: String(error) }));
    return () => {
      cancelled = true;
    };
  }, [app]);

  if (phase.kind === "loading") return <p role="status">{t("app.loading")}</p>;
  if (phase.kind === "failed")
    return (
      <main id="main" tabIndex={-1} className="page">
        <p role="alert">{t("error.unavailable")}</p>
      </main>
    );
  if (phase.kind === "signedOut")
    return (
      <main id="main" tabIndex={-1} className="page welcome">
        <h1>{t(`app.${app}`)}</h1>
        {welcome}
        <button type="button" className="primary" onClick={() => void signIn(phase.manager)}>
          {t("auth.sign_in")}
        </button>
      </main>
    );
  return (
    <SignedIn app={app} role={role} manager={phase.manager} initialUser={phase.user}>
      {children}
    </SignedIn>
  );
}

interface SignedInProps {
  app: AppName;
  role: Role | Role[];
  manager: UserManager;
  initialUser: User;
  children: ReactNode;
}

function SignedIn({ app, role, manager, initialUser, children }: SignedInProps) {
  const { t } = useTranslation();
  const [user, setUser] = useState(initialUser);
  const [expired, setExpired] = useState(initialUser.expired === true);
  const markExpired = useCallback(() => setExpired(true), []);
  const client = useMemo(() => queryClient(markExpired), [markExpired]);
  const api = useMemo(
    () =>
      new ApiClient(async () => {
        const current = await manager.getUser();
        return current && !current.expired ? current.access_token : null;
      }),
    [manager],
  );

  useEffect(() => {
    const loaded = (next: User) => {
      setUser(next);
      setExpired(false);
    };
    manager.events.addUserLoaded(loaded);
    manager.events.addAccessTokenExpired(markExpired);
    manager.events.addSilentRenewError(markExpired);
    return () => {
      manager.events.removeUserLoaded(loaded);
      manager.events.removeAccessTokenExpired(markExpired);
      manager.events.removeSilentRenewError(markExpired);
    };
  }, [manager, markExpired]);

  const profile = useQuery({ queryKey: ["me"], queryFn: () => api.me(), enabled: !expired }, client);

  useEffect(() => {
    const language = profile.data?.language;
    if (isLanguage(language)) void applyLanguage(language);
  }, [profile.data?.language]);

  if (profile.error && !profile.data) {
    return (
      <QueryClientProvider client={client}>
        <main id="main" tabIndex={-1} className="page">
          {expired ? (
            <ExpiredNotice onSignIn={() => void signIn(manager)} />
          ) : (
            <p role="alert">{t("error.unavailable")}</p>
          )}
        </main>
      </QueryClientProvider>
    );
  }
  if (!profile.data) return <p role="status">{t("app.loading")}</p>;
  if (!(Array.isArray(role) ? role : [role]).includes(profile.data.role)) {
    return (
      <main id="main" tabIndex={-1} className="page">
        <p role="alert">{t("auth.wrong_role", { role: t(`role.${profile.data.role}`) })}</p>
        <button type="button" onClick={() => void manager.signoutRedirect()}>
          {t("auth.sign_out")}
        </button>
      </main>
    );
  }
  const session: Session = {
    app,
    manager,
    user,
    api,
    profile: profile.data,
    expired,
    markExpired,
    signInAgain: () => void signIn(manager),
    signOut: () => void manager.signoutRedirect({ id_token_hint: user.id_token }),
    setLanguage: async (language) => {
      await applyLanguage(language);
      const saved = await api.setLanguage(language);
      client.setQueryData(["me"], saved);
    },
  };
  return (
    <QueryClientProvider client={client}>
      <SessionContext.Provider value={session}>{children}</SessionContext.Provider>
    </QueryClientProvider>
  );
}

export function ExpiredNotice({ onSignIn }: { onSignIn: () => void }) {
  const { t } = useTranslation();
  return (
    <div role="alert" className="notice warning">
      <p>
        <strong>{t("auth.expired")}</strong> {t("auth.expired_kept")}
      </p>
      <button type="button" className="primary" onClick={onSignIn}>
        {t("auth.sign_in_again")}
      </button>
    </div>
  );
}
