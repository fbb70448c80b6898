"""What `curex audit org` prints (pure: a SafeguardAudit in, rich renderables out)."""

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from schemas import SafeguardAudit, SafeguardStatus

_STYLE = {
    SafeguardStatus.IMPLEMENTED: "green",
    SafeguardStatus.PLANNED: "yellow",
    SafeguardStatus.DECLINED: "red",
}


def audit_report(audit: SafeguardAudit, via: str) -> list[RenderableType]:
    at = audit.at.isoformat(timespec="seconds")
    declared = audit.declaration
    heading = Text(f"{audit.org_id} at {at}, as the ledger of {via} records it", style="bold")
    if declared is None:
        return [heading, Text("no safeguards declared by then"), _transfers(audit, at)]
    provenance = Text(
        f"declared in tx {declared.tx_id} recorded {declared.recorded_at.isoformat()}\n"
        f"OST {declared.tool_version}, assessed {declared.assessed_at.isoformat()}, "
        f"report {declared.report_digest}"
    )
    safeguards = Table(title="safeguards", title_justify="left")
    safeguards.add_column("safeguard", no_wrap=True)
    safeguards.add_column("status", no_wrap=True)
    for state in declared.safeguards:
        safeguards.add_row(state.code, Text(state.status.value, style=_STYLE[state.status]))
    return [heading, provenance, safeguards, _transfers(audit, at)]


def _transfers(audit: SafeguardAudit, at: str) -> Table:
    transfers = Table(title=f"transfers since {at}: {len(audit.transfers)}", title_justify="left")
    for column in ("transfer", "as", "state", "created", "last change"):
        transfers.add_column(column, no_wrap=True)
    for touch in audit.transfers:
        transfers.add_row(
            touch.transfer_id,
            touch.role,
            touch.state.value,
            touch.created_at.isoformat(timespec="seconds"),
            touch.updated_at.isoformat(timespec="seconds"),
        )
    return transfers
