/** GET /v1/ops/overview, as the ops API answers it, and the chart rows made of it (pure). */

export interface OpsOverview {
  generated_at: string;
  topics: { topic: string; messages_per_s: number }[];
  throughput_series: { topic: string; points: [number, number][] }[];
  consumer_groups: { group: string; topic: string; lag: number }[];
  dead_letters: { total: number; recent: { at: string; source_topic: string; reason: string }[] };
  transfers_per_state: Record<string, number>;
  stuck_transfers: { transfer_id: string; state: string; since: string }[];
  services: { name: string; healthy: boolean }[];
  alerts: { name: string; severity: string; state: "firing" | "pending"; since: string; summary: string }[];
}

export type SeriesRow = { t: number } & Record<string, number>;

/** One row per timestamp with a column per topic, as a multi-line chart wants them. */
export function seriesRows(series: OpsOverview["throughput_series"]): SeriesRow[] {
  const rows = new Map<number, SeriesRow>();
  for (const { topic, points } of series) {
    for (const [at, rate] of points) {
      const row = rows.get(at) ?? ({ t: at } as SeriesRow);
      row[topic] = rate;
      rows.set(at, row);
    }
  }
  return [...rows.values()].sort((a, b) => a.t - b.t);
}

export function stateRows(perState: OpsOverview["transfers_per_state"]): { state: string; count: number }[] {
  return Object.entries(perState)
    .map(([state, count]) => ({ state, count }))
    .sort((a, b) => b.count - a.count);
}
