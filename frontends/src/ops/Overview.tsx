import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ErrorNotice } from "../components/ErrorNotice";
import { formatTime } from "../components/HistoryTable";
import { useSession } from "../lib/session";
import { seriesRows, stateRows, type OpsOverview } from "./overview";

const REFRESH_MS = 5_000;
// Distinguishable on white at 3:1 or better.
const PALETTE = ["#0b4f6c", "#b5179e", "#2a7f2a", "#c2410c", "#5b21b6", "#0369a1", "#854d0e"];

/** The exchange at a glance, refreshing by itself. */
export function Overview() {
  const { t, i18n } = useTranslation();
  const { api } = useSession();
  const overview = useQuery({
    queryKey: ["ops", "overview"],
    queryFn: () => api.request<OpsOverview>("GET", "/v1/ops/overview"),
    refetchInterval: REFRESH_MS,
  });
  if (overview.isPending) return <p role="status">{t("app.loading")}</p>;
  if (overview.isError && !overview.data) return <ErrorNotice error={overview.error} onRetry={() => void overview.refetch()} />;
  const data = overview.data;
  const time = (iso: string) => formatTime(iso, i18n.language);
  const rows = seriesRows(data.throughput_series);
  return (
    <>
      <h1>{t("ops.title")}</h1>
      <p role="status" className="muted">
        {t("ops.refreshed", { time: time(data.generated_at) })}
      </p>
      {overview.isError && <ErrorNotice error={overview.error} />}
      <section aria-labelledby="throughput-title" className="panel">
        <h2 id="throughput-title">{t("ops.throughput")}</h2>
        <ul className="stat-row">
          {data.topics.map((topic) => (
            <li key={topic.topic}>
              <span className="mono">{topic.topic}</span>{" "}
              <strong data-testid={`rate-${topic.topic}`}>{t("ops.msg_per_s", { value: topic.messages_per_s.toFixed(2) })}</strong>
            </li>
          ))}
        </ul>
        <div className="chart" role="img" aria-label={t("ops.throughput")}>
          <ResponsiveContainer width="100%" height={240}>
            <LineChart data={rows}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="t" tickFormatter={(s: number) => new Date(s * 1000).toLocaleTimeString(i18n.language)} />
              <YAxis />
              <Tooltip labelFormatter={(s) => new Date(Number(s) * 1000).toLocaleTimeString(i18n.language)} />
              <Legend />
              {data.throughput_series.map((series, index) => (
                <Line key={series.topic} type="monotone" dataKey={series.topic} dot={false} stroke={PALETTE[index % PALETTE.length]} isAnimationActive={false} />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </div>
      </section>
      <section aria-labelledby="states-title" className="panel">
        <h2 id="states-title">{t("ops.per_state")}</h2>
        <div className="chart" role="img" aria-label={t("ops.per_state")}>
          <ResponsiveContainer width="100%" height={240}>
            <BarChart data={stateRows(data.transfers_per_state)}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="state" tickFormatter={(s: string) => t(`state.${s}`, { defaultValue: s })} />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="count" name={t("ops.count")} fill={PALETTE[0]} isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </div>
        <Table
          caption={t("ops.per_state")}
          headers={[t("transfer.state"), t("ops.count")]}
          rows={stateRows(data.transfers_per_state).map((row) => [t(`state.${row.state}`, { defaultValue: row.state }), String(row.count)])}
        />
      </section>
      <section aria-labelledby="lag-title" className="panel">
        <h2 id="lag-title">{t("ops.lag")}</h2>
        <Table
          caption={t("ops.lag")}
          headers={[t("ops.group"), t("ops.topic"), t("ops.lag_col")]}
          rows={data.consumer_groups.map((g) => [g.group, g.topic, String(g.lag)])}
        />
      </section>
      <section aria-labelledby="dlq-title" className="panel">
        <h2 id="dlq-title">{t("ops.dead_letters")}</h2>
        <p data-testid="dead-letter-total">{t("ops.total", { count: data.dead_letters.total })}</p>
        <Table
          caption={t("ops.dead_letters")}
          headers={[t("ops.at"), t("ops.source_topic"), t("ops.reason")]}
          rows={data.dead_letters.recent.map((d) => [time(d.at), d.source_topic, d.reason])}
        />
      </section>
      <section aria-labelledby="stuck-title" className="panel">
        <h2 id="stuck-title">{t("ops.stuck")}</h2>
        <Table
          caption={t("ops.stuck")}
          headers={[t("transfer.id"), t("transfer.state"), t("ops.since")]}
          rows={data.stuck_transfers.map((s) => [s.transfer_id, t(`state.${s.state}`, { defaultValue: s.state }), time(s.since)])}
        />
      </section>
      <section aria-labelledby="services-title" className="panel">
        <h2 id="services-title">{t("ops.services")}</h2>
        <ul className="stat-row">
          {data.services.map((service) => (
            <li key={service.name} className={service.healthy ? "ok" : "down"}>
              {service.name}: <strong>{service.healthy ? t("ops.healthy") : t("ops.unhealthy")}</strong>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="alerts-title" className="panel">
        <h2 id="alerts-title">{t("ops.alerts")}</h2>
        <Table
          caption={t("ops.alerts")}
          headers={[t("ops.alert"), t("ops.severity"), t("ops.alert_state"), t("ops.since"), t("ops.summary")]}
          rows={data.alerts.map((a) => [a.name, a.severity, a.state, time(a.since), a.summary])}
        />
      </section>
    </>
  );
}

function Table({ caption, headers, rows }: { caption: string; headers: string[]; rows: string[][] }) {
  const { t } = useTranslation();
  if (rows.length === 0) return <p>{t("ops.none")}</p>;
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={caption}>
      <table>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {headers.map((header) => (
              <th key={header} scope="col">
                {header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={index}>
              {row.map((cell, column) => (
                <td key={column}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
