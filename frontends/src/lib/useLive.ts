/** Live changes for the signed-in user: invalidates the cached transfers as they commit. */
import { useQueryClient, type InfiniteData, type QueryClient } from "@tanstack/react-query";
import type { TransferDetail, TransferPage } from "./api";
import { useEffect, useRef, useState } from "react";
import { LiveUpdates, notificationsUrl, type LiveStatus, type TransferUpdate } from "./live";
import { useSession } from "./session";

export interface Seen {
  tx_id: string;
  block_number: number;
}

/** Where the last change seen is kept across visits (the PA); none keeps it per page. */
export interface SeenStore {
  load(): Seen | null;
  save(seen: Seen): void;
}

export function localSeenStore(key: string): SeenStore {
  return {
    load() {
      try {
        const value = JSON.parse(localStorage.getItem(key) ?? "null") as Seen | null;
        return value && typeof value.tx_id === "string" ? value : null;
      } catch {
        return null;
      }
    },
    save(seen) {
      localStorage.setItem(key, JSON.stringify(seen));
    },
  };
}

export function memorySeenStore(): SeenStore {
  let seen: Seen | null = null;
  return {
    load: () => seen,
    save: (next) => {
      seen = next;
    },
  };
}

// The read model may trail the notifier by seconds on a loaded machine: keep re-reading
// for this long, less often as time goes on.
const CATCH_UP_WITHIN_MS = 45_000;
const FIRST_PAUSE_MS = 300;
const LONGEST_PAUSE_MS = 3_000;

/** Whether the cached answers already show ``update`` (the read model may lag the notifier). */
export function showsUpdate(
  detail: TransferDetail | undefined,
  lists: (InfiniteData<TransferPage> | undefined)[],
  update: TransferUpdate,
): boolean {
  if (detail !== undefined && detail.last_block < update.block_number) return false;
  return lists.every((list) => {
    const item = list?.pages.flatMap((page) => page.items).find((i) => i.transfer_id === update.transfer_id);
    if (update.previous_state === null) return item !== undefined;
    return item === undefined || item.state !== update.previous_state;
  });
}

/** Refetches what shows the transfer until it shows the change, within a bound. */
async function catchUp(queries: QueryClient, update: TransferUpdate): Promise<void> {
  const deadline = Date.now() + CATCH_UP_WITHIN_MS;
  for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(LONGEST_PAUSE_MS, pause * 1.5)) {
    await Promise.all([
      queries.invalidateQueries({ queryKey: ["transfers"] }),
      queries.invalidateQueries({ queryKey: ["transfer", update.transfer_id] }),
    ]);
    const detail = queries.getQueryData<TransferDetail>(["transfer", update.transfer_id]);
    const lists = queries
      .getQueryCache()
      .findAll({ queryKey: ["transfers"], type: "active" })
      .map((query) => query.state.data as InfiniteData<TransferPage> | undefined);
    if (showsUpdate(detail, lists, update) || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

export interface LiveState {
  status: LiveStatus;
  /** Changes while this page is open, newest first. */
  live: TransferUpdate[];
  /** Changes committed while the user was away, replayed on reopening. */
  missed: TransferUpdate[];
}

export function useLive(store: SeenStore, baselineOnFirstVisit: boolean): LiveState {
  const session = useSession();
  const queries = useQueryClient();
  const [state, setState] = useState<LiveState>({ status: "connecting", live: [], missed: [] });
  const storeRef = useRef(store);
  const hadBaseline = useRef(store.load() !== null);
  const live = useRef<LiveUpdates | null>(null);
  const token = session.expired ? null : session.user.access_token;
  const tokenRef = useRef(token);
  tokenRef.current = token;

  useEffect(() => {
    if (tokenRef.current === null) return;
    const updates = new LiveUpdates({
      url: notificationsUrl(session.profile.notifications_url, window.location),
      token: () => tokenRef.current,
      lastSeen: () => storeRef.current.load()?.tx_id ?? null,
      resumeWithoutBaseline: baselineOnFirstVisit,
      onStatus: (status) => setState((current) => ({ ...current, status })),
      onUpdate: (update, replayed) => {
        const seen = storeRef.current.load();
        if (seen === null || update.block_number > seen.block_number) {
          storeRef.current.save({ tx_id: update.tx_id, block_number: update.block_number });
        }
        void catchUp(queries, update);
        if (replayed && !hadBaseline.current) return;
        setState((current) =>
          replayed
            ? { ...current, missed: [update, ...current.missed] }
            : { ...current, live: [update, ...current.live] },
        );
      },
    });
    live.current = updates;
    updates.start();
    return () => updates.stop();
    // One socket per page; a renewed token is handed to it below, not a new socket.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [token === null]);

  useEffect(() => {
    live.current?.renewed();
  }, [token]);

  return state;
}
