"""deploy/k8s and deploy/docker-compose.yml: well-formed, wired together, and their environment
matches the real settings. Reads files only; needs no services."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from broker.calendar.holidays_file import load_holidays_file
from testing.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
SECRET_EXAMPLE = K8S / "secret.example.yaml"
SECRET_SETTINGS = {
    "DATABASE_URL",
    "MIGRATION_DATABASE_URL",
    "REDIS_URL",
    "WEBHOOK_SECRET_KEY",
    "OAUTH_SIGNING_KEY",
    "AUDIT_KEY",
    "KAFKA_SASL_PASSWORD",
}
SETTINGS_NAMES = {field.alias for field in Settings.model_fields.values()} - {None}
CREDENTIALS_IN_URL = re.compile(r"://[^/\s@]*:[^/\s@]+@")

Doc = dict[str, Any]


def load_all(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def kustomization_docs(directory: Path) -> list[Doc]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    return [doc for name in kustomization["resources"] for doc in load_all(directory / name)]


APPLIED = kustomization_docs(K8S) + kustomization_docs(K8S / "migrate")
EXAMPLE_SECRETS = {doc["metadata"]["name"]: doc for doc in load_all(SECRET_EXAMPLE)}


def find(kind: str, name: str) -> Doc:
    [doc] = [d for d in APPLIED if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def workloads() -> Iterator[Doc]:
    return (doc for doc in APPLIED if doc["kind"] in {"Deployment", "Job"})


def containers(workload: Doc) -> list[Doc]:
    return list(workload["spec"]["template"]["spec"]["containers"])


def is_setting(name: str) -> bool:
    return name in SETTINGS_NAMES or name.startswith("OTEL_")


def test_every_manifest_parses_and_is_applied_or_the_template() -> None:
    files = sorted(K8S.rglob("*.yaml"))
    for path in files:
        load_all(path)
    files += sorted(K8S.rglob("*.json"))
    listed = {K8S / "kustomization.yaml", K8S / "migrate" / "kustomization.yaml", SECRET_EXAMPLE}
    for directory in (K8S, K8S / "migrate"):
        kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
        listed |= {directory / name for name in kustomization["resources"]}
        listed |= {directory / name for name in generated_from(kustomization)}
    assert set(files) == listed


def generated_from(kustomization: Doc) -> list[str]:
    """The files a kustomization's ConfigMap generators read (`key=path` or `path`)."""
    return [
        entry.rpartition("=")[2]
        for generator in kustomization.get("configMapGenerator", [])
        for entry in generator["files"]
    ]


def test_the_monitoring_config_maps_hold_files_that_exist() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert {g["name"] for g in kustomization["configMapGenerator"]} == {
        "cdo-broker-alerts",
        "cdo-broker-dashboard",
        "cdo-broker-holidays",
    }
    assert all((K8S / name).is_file() for name in generated_from(kustomization))


def test_the_brokers_read_the_holidays_file_the_config_map_mounts() -> None:
    """HOLIDAYS_FILE points into the mounted ConfigMap, whose file the broker reads as it
    would at start (a bad one would stop every replica)."""
    broker = find("Deployment", "cdo-broker")
    [container] = containers(broker)
    path = PurePosixPath(_value(container, "HOLIDAYS_FILE"))
    [mount] = [m for m in container["volumeMounts"] if m["name"] == "holidays"]
    assert path.parent == PurePosixPath(mount["mountPath"])
    [volume] = [v for v in broker["spec"]["template"]["spec"]["volumes"] if v["name"] == "holidays"]
    assert volume["configMap"]["name"] == "cdo-broker-holidays"
    assert load_holidays_file(K8S / path.name) == {}


def test_broker_probes_command_and_port() -> None:
    broker = find("Deployment", "cdo-broker")
    [container] = containers(broker)
    assert container["command"] == ["cdo-broker", "serve", "--host", "0.0.0.0", "--port", "8000"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http": 8000}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    assert broker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > 10


def test_notifier_probes_its_own_health_port() -> None:
    notifier = find("Deployment", "cdo-notifier")
    [container] = containers(notifier)
    assert container["command"] == ["cdo-broker", "notifier"]
    assert notifier["spec"]["replicas"] >= 2
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"health": int(_value(container, "NOTIFIER_HTTP_PORT"))}
    assert _value(container, "NOTIFIER_HTTP_HOST") == "0.0.0.0"  # reachable by the kubelet
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}


def test_migration_job_runs_migrate() -> None:
    [container] = containers(find("Job", "cdo-broker-migrate"))
    assert container["command"] == ["cdo-broker", "migrate"]


@pytest.mark.parametrize("name", ["cdo-broker", "cdo-notifier", "cdo-broker-migrate"])
def test_resources_and_security_context(name: str) -> None:
    [workload] = [doc for doc in workloads() if doc["metadata"]["name"] == name]
    pod = workload["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    for container in containers(workload):
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "memory" in container["resources"]["limits"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["image"].split(":")[0] == "cdo-broker"


def environment(container: Doc) -> dict[str, str]:
    """Every variable the container gets, and where from (`configmap`, `secret` or `value`)."""
    names: dict[str, str] = {}
    for source in container.get("envFrom", []):
        config_map = find("ConfigMap", source["configMapRef"]["name"])
        names |= dict.fromkeys(config_map["data"], "configmap")
    for variable in container.get("env", []):
        names[variable["name"]] = "secret" if "valueFrom" in variable else "value"
    return names


def test_environment_matches_the_settings() -> None:
    for workload in workloads():
        for container in containers(workload):
            unknown = {name for name in environment(container) if not is_setting(name)}
            assert not unknown, f"{workload['metadata']['name']}: not settings: {unknown}"
    config = find("ConfigMap", "cdo-broker-config")["data"]
    for name in config:
        assert is_setting(name), name
    # The values parse as the settings they configure, with each Deployment's own (a Secret's
    # value stands in as a placeholder).
    values = {name: value for name, value in config.items() if name in SETTINGS_NAMES}
    for name in ("cdo-broker", "cdo-notifier"):
        [container] = containers(find("Deployment", name))
        own = {v["name"]: v.get("value", "from-a-secret") for v in container["env"]}
        settings = Settings.model_validate(values | own)
        assert settings.environment == "production"
        assert settings.kafka_bootstrap_servers == config["KAFKA_BOOTSTRAP_SERVERS"]
        assert settings.kafka_security_protocol == "SASL_SSL"
        assert settings.kafka_sasl_username == name  # each its own principal, with its ACLs


def test_what_each_process_needs() -> None:
    [broker] = containers(find("Deployment", "cdo-broker"))
    [notifier] = containers(find("Deployment", "cdo-notifier"))
    [migrate] = containers(find("Job", "cdo-broker-migrate"))
    config = find("ConfigMap", "cdo-broker-config")["data"]
    assert config["BROKER_ENV"] == "production"
    assert {"KAFKA_BOOTSTRAP_SERVERS", "OAUTH_ISSUER", "OTEL_EXPORTER_OTLP_ENDPOINT"} <= set(config)
    # The proxies whose X-Forwarded-For is believed: lockouts count per caller address.
    assert config["FORWARDED_ALLOW_IPS"].strip() not in ("", "*")
    assert config["OAUTH_ISSUER"].startswith("https://")
    broker_env, notifier_env = environment(broker), environment(notifier)
    assert {"DATABASE_URL", "REDIS_URL", "WEBHOOK_SECRET_KEY", "AUDIT_KEY"} <= broker_env.keys()
    assert {"OAUTH_SIGNING_KEY", "OAUTH_SIGNING_KEY_FILES"} & broker_env.keys()
    assert {"DATABASE_URL", "WEBHOOK_SECRET_KEY", "KAFKA_BOOTSTRAP_SERVERS"} <= notifier_env.keys()
    # The Job migrates as the owner and grants the broker's role (of DATABASE_URL) its rights.
    assert {"MIGRATION_DATABASE_URL", "DATABASE_URL"} <= environment(migrate).keys()
    assert "MIGRATION_DATABASE_URL" not in broker_env.keys() | notifier_env.keys()
    assert {c["name"]: _value(c, "OTEL_SERVICE_NAME") for c in (broker, notifier)} == {
        "broker": "cdo-broker",
        "notifier": "cdo-notifier",
    }


def _value(container: Doc, name: str) -> str:
    [value] = [v["value"] for v in container["env"] if v["name"] == name]
    return str(value)


def test_secret_references_exist_in_the_template() -> None:
    for workload in workloads():
        pod = workload["spec"]["template"]["spec"]
        for container in pod["containers"]:
            for variable in container.get("env", []):
                if "valueFrom" in variable:
                    ref = variable["valueFrom"]["secretKeyRef"]
                    assert ref["key"] in EXAMPLE_SECRETS[ref["name"]]["stringData"]
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in EXAMPLE_SECRETS


def test_signing_key_files_are_mounted() -> None:
    [broker] = containers(find("Deployment", "cdo-broker"))
    mounts = {m["name"]: m["mountPath"] for m in broker["volumeMounts"]}
    keys = EXAMPLE_SECRETS["cdo-broker-signing-keys"]["stringData"]
    for path in _value(broker, "OAUTH_SIGNING_KEY_FILES").split(","):
        directory, file = path.strip().rsplit("/", 1)
        assert directory == mounts["signing-keys"]
        assert file in keys


def test_no_literal_secrets() -> None:
    assert not [doc for doc in APPLIED if doc["kind"] == "Secret"]
    for doc in APPLIED:
        text = yaml.safe_dump(doc)
        assert "PRIVATE KEY" not in text
        assert not CREDENTIALS_IN_URL.search(text)
    for name in find("ConfigMap", "cdo-broker-config")["data"]:
        assert name not in SECRET_SETTINGS
    for workload in workloads():
        for container in containers(workload):
            for name, source in environment(container).items():
                assert name not in SECRET_SETTINGS or source == "secret", name
    for secret in EXAMPLE_SECRETS.values():
        assert "data" not in secret
        for value in secret["stringData"].values():
            assert value.startswith("REPLACE_ME"), value


def selects(selector: Doc, labels: Doc) -> bool:
    return all(labels.get(key) == value for key, value in selector["matchLabels"].items())


def pod_labels(name: str) -> Doc:
    return dict(find("Deployment", name)["spec"]["template"]["metadata"]["labels"])


def test_service_hpa_pdbs_and_policies_select_the_pods() -> None:
    service = find("Service", "cdo-broker")
    assert selects({"matchLabels": service["spec"]["selector"]}, pod_labels("cdo-broker"))
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    hpa = find("HorizontalPodAutoscaler", "cdo-broker")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "cdo-broker"
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert "replicas" not in find("Deployment", "cdo-broker")["spec"]  # the HPA owns it
    for name in ("cdo-broker", "cdo-notifier"):
        assert selects(find("PodDisruptionBudget", name)["spec"]["selector"], pod_labels(name))
        policy = find("NetworkPolicy", name)["spec"]
        assert selects(policy["podSelector"], pod_labels(name))
        assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    egress_ports = {
        name: {
            port["port"]
            for rule in find("NetworkPolicy", name)["spec"]["egress"]
            for port in rule.get("ports", [])
        }
        for name in ("cdo-broker", "cdo-notifier")
    }
    assert {53, 5432, 6379, 9093, 4317} <= egress_ports["cdo-broker"]
    assert {53, 5432, 9093, 4317, 443} <= egress_ports["cdo-notifier"]
    ingress_ports = {
        name: [
            port["port"]
            for rule in find("NetworkPolicy", name)["spec"]["ingress"]
            for port in rule["ports"]
        ]
        for name in ("cdo-broker", "cdo-notifier")
    }
    assert ingress_ports == {"cdo-broker": [8000], "cdo-notifier": [8001]}  # API; metrics


COMPOSE = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


@pytest.mark.parametrize(
    ("service", "otel_name"), [("broker", "cdo-broker"), ("notifier", "cdo-notifier")]
)
def test_compose_services_trace_to_jaeger(service: str, otel_name: str) -> None:
    spec = COMPOSE["services"][service]
    env = spec["environment"]
    assert env["OTEL_SERVICE_NAME"] == otel_name
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4317"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc"
    assert env["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
    assert "jaeger" in spec["depends_on"]
    unknown = {name for name in env if not is_setting(name)}
    assert not unknown


def test_compose_jaeger_takes_otlp_and_shows_a_ui() -> None:
    jaeger = COMPOSE["services"]["jaeger"]
    assert jaeger["image"].startswith(("jaegertracing/jaeger:2.", "jaegertracing/all-in-one:1."))
    published = {port.rsplit(":", 1)[-1] for port in jaeger["ports"]}
    assert {"4317", "4318", "16686"} <= published


def test_compose_keys_come_from_the_env_file() -> None:
    env = COMPOSE["services"]["broker"]["environment"]
    assert env["WEBHOOK_SECRET_KEY"] == "${WEBHOOK_SECRET_KEY:-}"
    assert env["OAUTH_SIGNING_KEY"] == "${OAUTH_SIGNING_KEY:-}"
    assert env["AUDIT_KEY"] == "${AUDIT_KEY:-}"
    example = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            example[name] = value
    assert set(example) <= SETTINGS_NAMES
    assert example["WEBHOOK_SECRET_KEY"] == example["OAUTH_SIGNING_KEY"] == ""
    assert example["AUDIT_KEY"] == ""


def test_compose_brokers_connect_as_the_app_role_and_migrate_as_the_owner() -> None:
    services = COMPOSE["services"]
    app, owner = "postgresql+asyncpg://cdo_app:", "postgresql+asyncpg://cdo:"
    for name in ("broker", "notifier", "migrate"):
        assert services[name]["environment"]["DATABASE_URL"].startswith(app)
    assert services["migrate"]["environment"]["MIGRATION_DATABASE_URL"].startswith(owner)
    init = [v for v in services["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v]
    assert (DEPLOY / init[0].split(":")[0]).read_text().count("CREATE ROLE cdo_app") == 1


def test_compose_makes_the_topics_with_the_stacks_admin_before_the_services_start() -> None:
    services = COMPOSE["services"]
    [mount] = services["kafka-topics"]["volumes"]
    source, target, _ = mount.split(":")
    assert (DEPLOY / source).resolve() == DEPLOY / "local" / "kafka_admin.py"
    assert services["kafka-topics"]["command"][:2] == ["python", target]
    for name in ("broker", "notifier"):
        wait = services[name]["depends_on"]["kafka-topics"]
        assert wait == {"condition": "service_completed_successfully"}
