"""docker-compose.yml agrees with the code: services, dependencies, settings, search attributes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from infra.settings import Settings
from infra.temporal import search_attribute_types

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_dependency_names_a_service(compose):
    services = compose["services"]
    for name, svc in services.items():
        for dep in svc.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown service {dep}"


def test_every_image_is_pinned(compose):
    for name, svc in compose["services"].items():
        image = svc.get("image")
        assert image, f"{name} has no image"
        tag = image.rsplit(":", 1)[-1] if ":" in image else ""
        assert tag and tag != "latest", f"{name} image {image} is not pinned"


def test_the_stack_has_two_workers_the_api_ui_and_admin_jobs(compose):
    services = compose["services"]
    workers = [s for s in services.values() if s.get("command") == ["python", "worker.py"]]
    assert len(workers) == 2
    assert services["api"]["command"][:2] == ["uvicorn", "api.main:app"]
    assert services["temporal-ui"]["environment"]["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec")
    assert services["temporal"]["depends_on"]["temporal-schema"] == {
        "condition": "service_completed_successfully"
    }


def test_app_environment_names_are_settings_the_code_reads(compose):
    fields = {name.upper() for name in Settings.model_fields}
    for name in ("worker-1", "worker-2", "api", "priorauth-migrate"):
        env = compose["services"][name]["environment"]
        unknown = set(env) - fields
        assert not unknown, f"{name} sets env the code never reads: {unknown}"
        assert {"TEMPORAL_ADDRESS", "DATABASE_URL", "CODEC_KEYS", "MEMBER_REF_KEY"} <= set(env)


def test_admin_job_registers_exactly_the_search_attributes_the_code_uses():
    script = (ROOT / "deploy" / "temporal-admin.sh").read_text()
    registered = dict(re.findall(r"\b(\w+)=(Keyword|Datetime|Int|Bool|Text|Double)\b", script))
    assert registered == search_attribute_types()


def test_mounted_deploy_files_exist(compose):
    for svc in compose["services"].values():
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"missing {source}"


def _published(svc: dict) -> list[str]:
    return [str(p) for p in svc.get("ports", [])]


def test_temporal_grpc_and_postgresql_are_not_published_to_the_host(compose):
    services = compose["services"]
    assert _published(services["temporal"]) == []
    assert _published(services["postgresql"]) == []


def test_the_ui_and_the_api_listen_on_the_hosts_loopback_only(compose):
    services = compose["services"]
    for name in ("temporal-ui", "api"):
        ports = _published(services[name])
        assert ports and all(p.startswith("127.0.0.1:") for p in ports), (name, ports)


def test_the_app_runs_in_production_mode_with_its_secrets_from_the_environment(compose):
    env = compose["x-app-env"]
    assert env["PRIORAUTH_ENV"] == "production"
    for name in ("MEMBER_REF_KEY", "CODEC_KEYS"):
        assert env[name].startswith("${" + name + ":?"), f"{name} must be required"


def test_only_the_ui_and_the_api_publish_a_port(compose):
    published = {name for name, svc in compose["services"].items() if _published(svc)}
    assert published == {"temporal-ui", "api"}


def test_only_the_migrate_job_holds_the_owner_and_the_app_runs_as_the_runtime_login(compose):
    services = compose["services"]
    migrate = services["priorauth-migrate"]
    assert migrate["command"] == ["priorauth", "migrate"]
    owner_url = migrate["environment"]["MIGRATION_DATABASE_URL"]
    init = (ROOT / "deploy" / "postgres-init.sql").read_text()
    owner = re.match(r"postgresql://([^:]+):", owner_url).group(1)
    assert f"CREATE DATABASE priorauth OWNER {owner}" in init
    for name in ("worker-1", "worker-2", "api"):
        env = services[name]["environment"]
        assert "MIGRATION_DATABASE_URL" not in env, name
        runtime_login = re.match(r"postgresql://([^:]+):", env["DATABASE_URL"]).group(1)
        group = env["DATABASE_RUNTIME_ROLE"]
        assert f"CREATE ROLE {group} NOLOGIN" in init
        assert f"CREATE ROLE {runtime_login} LOGIN PASSWORD" in init
        assert f"IN ROLE {group}" in init
        assert services[name]["depends_on"]["priorauth-migrate"] == {
            "condition": "service_completed_successfully"
        }
