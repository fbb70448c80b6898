"""Configuring and launching Keycloak (dev mode) with the CUREX realms, and probing it.

The distribution lives in the shared cache; what must survive `down`/`up` (its H2
database) lives under `<data>/keycloak`. Realms are imported from
`infra/keycloak/realms/*.json` on every start, and Keycloak skips a realm that already
exists, so users and changes made at run time are kept.

In realm `curex`, client `curex-web` has full scope off and only the three CUREX roles
in scope, so its realm-role mapper emits exactly one role as the single-valued `role`
claim (never default-roles-curex); `org` and `patient_id` are attributes declared in the
realm's user profile, editable by admins only.
"""

from pathlib import Path

from infra.health import HealthProbe, http_ok
from infra.java import find_java
from infra.keycloak.clients import write_realm
from infra.keycloak.dist import KEYCLOAK_RESOURCES, fetch_keycloak, keycloak_home
from infra.progress import ProgressReporter
from infra.secrets import keycloak_admin_password
from infra.settings import InfraSettings

KEYCLOAK_MINIMUM_JAVA = 21
TEMURIN_25_HOME = Path("/usr/lib/jvm/temurin-25-jdk-amd64")
REALMS_DIR = KEYCLOAK_RESOURCES / "realms"
REALMS = ("curex", "curex-ledger")
BOOTSTRAP_ADMIN = "admin"
_HEAP = "-Xms128m -Xmx768m"
# User events counted in keycloak_user_events_total (by realm, client, event and error; never
# by user): sign-ins and their failures, token use, logouts, credential changes, lockouts.
_USER_EVENT_METRICS = (
    "login",
    "logout",
    "code_to_token",
    "refresh_token",
    "update_credential",
    "user_disabled_by_temporary_lockout",
    "user_disabled_by_permanent_lockout",
)


def keycloak_java(settings: InfraSettings) -> Path:
    """A java >= 21: CUREX_KEYCLOAK_JAVA_HOME, then Temurin 25, then JAVA_HOME, then PATH."""
    preferred = [settings.keycloak_java_home] if settings.keycloak_java_home else []
    return find_java(
        KEYCLOAK_MINIMUM_JAVA,
        [*preferred, TEMURIN_25_HOME],
        purpose="Keycloak",
        hint="Install a JDK 21+ (e.g. Temurin 25) or point CUREX_KEYCLOAK_JAVA_HOME at one.",
    )


def _import_dir(settings: InfraSettings) -> Path:
    # Fixed by Keycloak: `--import-realm` reads <home>/data/import and nothing else.
    return keycloak_home(settings) / "data" / "import"


def install_realms(settings: InfraSettings) -> None:
    """Puts the realm files where `--import-realm` reads them, replacing older copies."""
    target = _import_dir(settings)
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*.json"):
        stale.unlink()
    for realm in sorted(REALMS_DIR.glob("*.json")):
        write_realm(realm, target / realm.name, settings)


def prepare_keycloak(settings: InfraSettings, progress: ProgressReporter) -> None:
    """Checks for a suitable java, fetches the distribution when missing, installs the realms."""
    keycloak_java(settings)
    fetch_keycloak(settings, progress)
    install_realms(settings)
    settings.keycloak_data_dir.mkdir(parents=True, exist_ok=True)


def _database_url(settings: InfraSettings) -> str:
    # NON_KEYWORDS=VALUE is what Keycloak's own dev-file URL carries (a column is named VALUE).
    database = settings.keycloak_data_dir / "h2" / "keycloakdb"
    return f"jdbc:h2:file:{database};NON_KEYWORDS=VALUE"


def keycloak_command(settings: InfraSettings) -> list[str]:
    return [
        # kc.sh runs $JAVA. Set here rather than in the spec's env so that only `up`
        # looks for a java, never `status` or `down`.
        "/usr/bin/env",
        f"JAVA={keycloak_java(settings)}",
        str(keycloak_home(settings) / "bin" / "kc.sh"),
        "start-dev",
        f"--http-host={settings.keycloak_host}",
        f"--http-port={settings.keycloak_port}",
        # The issuer in every token, whichever address a client used.
        f"--hostname={settings.keycloak_url}",
        f"--http-management-port={settings.keycloak_management_port}",
        "--health-enabled=true",
        # Prometheus metrics at <management>/metrics, with user event counters.
        "--metrics-enabled=true",
        "--features=user-event-metrics",
        "--event-metrics-user-enabled=true",
        "--event-metrics-user-tags=realm,clientId",
        f"--event-metrics-user-events={','.join(_USER_EVENT_METRICS)}",
        "--db=dev-file",
        f"--db-url={_database_url(settings)}",
        "--import-realm",
        "--log-console-color=false",
    ]


def keycloak_env(settings: InfraSettings) -> dict[str, str]:
    # No CUREX_* passthrough: Keycloak reads none, and a changed variable would make
    # `up` restart it.
    return {
        "JAVA_OPTS_KC_HEAP": _HEAP,
        # Read on the first start only, when the master realm has no admin yet.
        "KC_BOOTSTRAP_ADMIN_USERNAME": BOOTSTRAP_ADMIN,
        "KC_BOOTSTRAP_ADMIN_PASSWORD": keycloak_admin_password(settings),
    }


def keycloak_metrics_address(settings: InfraSettings) -> str:
    """host:port of the management interface, which serves /metrics."""
    return f"{settings.keycloak_host}:{settings.keycloak_management_port}"


def keycloak_health(settings: InfraSettings) -> HealthProbe:
    """Healthy when the management interface says ready and both realms answer."""
    probes = [
        http_ok(
            f"http://{settings.keycloak_host}:{settings.keycloak_management_port}/health/ready"
        ),
        *(
            http_ok(f"{settings.keycloak_url}/realms/{realm}/.well-known/openid-configuration")
            for realm in REALMS
        ),
    ]

    async def probe() -> None:
        for check in probes:
            await check()

    return probe


def realm_files() -> list[Path]:
    return sorted(REALMS_DIR.glob("*.json"))
