/** The notifier's WebSocket: authenticate, resume after the last change seen, reconnect. */
import type { TransferState } from "./api";

export interface TransferUpdate {
  type: "transfer.updated";
  transfer_id: string;
  state: TransferState;
  previous_state: TransferState | null;
  tx_id: string;
  block_number: number;
  occurred_at: string;
  message: string;
}

export type LiveStatus = "connecting" | "live" | "offline";

export interface LiveOptions {
  url: string;
  token: () => string | null;
  /** The last change this client has seen, to resume after; null: none yet. */
  lastSeen: () => string | null;
  /** With no change seen yet, still ask for everything (to set a baseline). */
  resumeWithoutBaseline: boolean;
  onUpdate: (update: TransferUpdate, replayed: boolean) => void;
  onStatus: (status: LiveStatus) => void;
  socketFactory?: (url: string) => WebSocket;
}

const MAX_BACKOFF_MS = 15_000;

export class LiveUpdates {
  private socket: WebSocket | null = null;
  private stopped = false;
  private attempts = 0;
  private replaying = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly options: LiveOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.socket?.close(1000);
    this.socket = null;
  }

  /** Hands a renewed token to an open socket, so it is not closed when the old one expires. */
  renewed(): void {
    const token = this.options.token();
    if (token !== null && this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type: "auth", token }));
    }
  }

  private connect(): void {
    const token = this.options.token();
    if (token === null || this.stopped) return;
    this.options.onStatus("connecting");
    const socket = (this.options.socketFactory ?? ((url) => new WebSocket(url)))(this.options.url);
    this.socket = socket;
    let authenticated = false;
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token }));
    socket.onmessage = (event: MessageEvent<string>) => {
      const frame = JSON.parse(event.data) as { type: string };
      if (frame.type === "auth.ok" && !authenticated) {
        authenticated = true;
        this.attempts = 0;
        this.options.onStatus("live");
        const after = this.options.lastSeen();
        if (after !== null || this.options.resumeWithoutBaseline) {
          this.replaying = true;
          socket.send(JSON.stringify({ type: "resume", after }));
        }
      } else if (frame.type === "resume.completed") {
        this.replaying = false;
      } else if (frame.type === "transfer.updated") {
        this.options.onUpdate(frame as TransferUpdate, this.replaying);
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket || this.stopped) return;
      this.options.onStatus("offline");
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempts);
      this.attempts += 1;
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }
}

/** The notifier's address: the profile's, else this server's /v1/notifications. */
export function notificationsUrl(profileUrl: string | null | undefined, location: Location): string {
  if (profileUrl) return profileUrl;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/v1/notifications`;
}
