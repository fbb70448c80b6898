import { describe, expect, it } from "vitest";
import type { TransferDetail, TransferPage } from "./api";
import { LiveUpdates, notificationsUrl, type TransferUpdate } from "./live";
import { showsUpdate } from "./useLive";

class FakeSocket {
  sent: unknown[] = [];
  readyState = 1;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {}
  receive(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

const update: TransferUpdate = {
  type: "transfer.updated",
  transfer_id: "tr-1",
  state: "PATIENT_ACCEPTED",
  previous_state: "RISK_ACCEPTED",
  tx_id: "tx-9",
  block_number: 9,
  occurred_at: "2026-01-01T00:00:00Z",
  message: "m",
};

function connect(lastSeen: string | null, resumeWithoutBaseline: boolean) {
  const socket = new FakeSocket();
  const received: [TransferUpdate, boolean][] = [];
  const live = new LiveUpdates({
    url: "ws://x/v1/notifications",
    token: () => "tok",
    lastSeen: () => lastSeen,
    resumeWithoutBaseline,
    onUpdate: (u, replayed) => received.push([u, replayed]),
    onStatus: () => undefined,
    socketFactory: () => socket as unknown as WebSocket,
  });
  live.start();
  socket.onopen?.();
  return { socket, received, live };
}

describe("the notifications socket", () => {
  it("authenticates first, then resumes after the last change seen", () => {
    const { socket } = connect("tx-5", false);
    socket.receive({ type: "auth.ok", user_id: "u" });
    expect(socket.sent).toEqual([{ type: "auth", token: "tok" }, { type: "resume", after: "tx-5" }]);
  });

  it("does not ask for a replay with nothing seen unless a baseline is wanted", () => {
    const quiet = connect(null, false);
    quiet.socket.receive({ type: "auth.ok", user_id: "u" });
    expect(quiet.socket.sent).toHaveLength(1);
    const baseline = connect(null, true);
    baseline.socket.receive({ type: "auth.ok", user_id: "u" });
    expect(baseline.socket.sent[1]).toEqual({ type: "resume", after: null });
  });

  it("tells replayed changes from live ones", () => {
    const { socket, received } = connect("tx-5", false);
    socket.receive({ type: "auth.ok", user_id: "u" });
    socket.receive(update);
    socket.receive({ type: "resume.completed" });
    socket.receive({ ...update, tx_id: "tx-10", block_number: 10 });
    expect(received.map(([u, replayed]) => [u.tx_id, replayed])).toEqual([
      ["tx-9", true],
      ["tx-10", false],
    ]);
  });

  it("uses the profile's address, else this server's", () => {
    expect(notificationsUrl("wss://n.example/v1/notifications", { protocol: "https:", host: "a" } as Location)).toBe(
      "wss://n.example/v1/notifications",
    );
    expect(notificationsUrl(null, { protocol: "http:", host: "127.0.0.1:8080" } as Location)).toBe(
      "ws://127.0.0.1:8080/v1/notifications",
    );
  });
});

describe("catching up with the read model", () => {
  const page = (state: TransferPage["items"][number]["state"]) => ({
    pages: [{ items: [{ transfer_id: "tr-1", state } as TransferPage["items"][number]], next_cursor: null }],
    pageParams: [null],
  });

  it("is not done while the transfer's last block is older than the change", () => {
    expect(showsUpdate({ last_block: 8 } as TransferDetail, [], update)).toBe(false);
    expect(showsUpdate({ last_block: 9 } as TransferDetail, [], update)).toBe(true);
  });

  it("is not done while a list still shows the state the change left", () => {
    expect(showsUpdate(undefined, [page("RISK_ACCEPTED")], update)).toBe(false);
    expect(showsUpdate(undefined, [page("PATIENT_ACCEPTED")], update)).toBe(true);
  });
});
