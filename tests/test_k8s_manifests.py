"""deploy/k8s: valid for Kubernetes' own schemas (offline, kubernetes-validate), and right for
this service: non-root and read-only, one beat, real secrets' keys, real queues, real commands."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from config import MIN_SECRET_LENGTH, PLACEHOLDER_SECRETS, Settings
from scripts.commands import beat_command, pool_commands
from settings.base import env_fields
from utils.names import ALL_QUEUES

K8S = Path(__file__).resolve().parent.parent / "deploy" / "k8s"
# A version still supported by the big clouds, and the newest the package knows.
VERSIONS = ("1.31.0", kubernetes_validate.latest_version())
# CRDs: no schema in the package; checked by structure below.
CRD_GROUPS = ("keda.sh/",)
IMAGE = "tts-service"
GPU_IMAGE = "tts-service-gpu"  # the Dockerfile built with --build-arg GPU=1
PENDING_SETTINGS = {
    "LOG_FORMAT",
    "WORKER_METRICS_PORT",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "S3_REGION",
    "S3_PREFIX",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
}


def load(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


MANIFESTS = {
    path.relative_to(K8S).as_posix(): load(path)
    for path in sorted(K8S.rglob("*.yaml"))
    if path.name != "kustomization.yaml"
}
DOCS = [doc for docs in MANIFESTS.values() for doc in docs]


def of_kind(kind: str) -> list[dict]:
    return [doc for doc in DOCS if doc["kind"] == kind]


def named(kind: str, name: str) -> dict:
    (doc,) = [doc for doc in of_kind(kind) if doc["metadata"]["name"] == name]
    return doc


WORKLOADS = of_kind("Deployment") + of_kind("StatefulSet")
SECRET = named("Secret", "tts-secrets")
CONFIG = named("ConfigMap", "tts-config")["data"]


def containers(workload: dict, init: bool = True) -> list[dict]:
    spec = workload["spec"]["template"]["spec"]
    return spec["containers"] + (spec.get("initContainers", []) if init else [])


def our_containers(init: bool = False) -> list[tuple[dict, dict]]:
    return [
        (workload, container)
        for workload in WORKLOADS
        for container in containers(workload, init)
        if container["image"] in (IMAGE, GPU_IMAGE)
    ]


def env_of(container: dict) -> dict[str, dict]:
    return {var["name"]: var for var in container.get("env", [])}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "doc",
    [doc for doc in DOCS if not doc["apiVersion"].startswith(CRD_GROUPS)],
    ids=lambda doc: f"{doc['kind']}/{doc['metadata']['name']}",
)
def test_every_manifest_is_valid_for_kubernetes(doc, version):
    kubernetes_validate.validate(doc, version, strict=True)


def test_the_schemas_refuse_a_mistake():
    broken = yaml.safe_load(yaml.safe_dump(named("Deployment", "tts-beat")))
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRoot"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def test_kustomize_applies_every_manifest_but_the_secret_template():
    for folder in (K8S, K8S / "keda"):
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        files = {p.name for p in folder.glob("*.yaml")} - {"kustomization.yaml"}
        assert set(kustomization["resources"]) == files - {"secret.template.yaml"}, folder
        assert kustomization["namespace"] == "tts"
    assert all(doc["metadata"].get("namespace", "tts") == "tts" for doc in DOCS)
    images = yaml.safe_load((K8S / "kustomization.yaml").read_text())["images"]
    assert [image["name"] for image in images] == [IMAGE, GPU_IMAGE]


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda workload: workload["metadata"]["name"])
def test_every_container_runs_as_non_root_on_a_read_only_root_with_resources(workload):
    pod = workload["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] > 0
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in containers(workload):
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        for bound in ("requests", "limits"):
            kinds = set(container["resources"][bound])
            if container["image"] == GPU_IMAGE and bound == "limits":
                kinds -= {"nvidia.com/gpu"}  # the GPU pool's pods hold one GPU each
            assert kinds == {"cpu", "memory"}, container["name"]
        if container["image"] in (IMAGE, GPU_IMAGE):
            # The image's user, and writable folders where the service writes (emptyDirs).
            assert security["runAsUser"] == 10001
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert set(mounts) == {"/data", "/tmp"}
            volumes = {v["name"]: v for v in pod["volumes"]}
            assert all("emptyDir" in volumes[name] for name in mounts.values())
    assert re.search(r"^USER 10001:10001$", (K8S.parent.parent / "Dockerfile").read_text(), re.M)


def test_the_settings_put_every_write_under_the_mounted_data_folder():
    for name in ("DATA_DIR", "TEMP_DIR", "PIPER_VOICE_DIR"):
        assert CONFIG[name] == "/data" or CONFIG[name].startswith("/data/"), name
    # Pods on different nodes share no disk: audio is in S3.
    assert CONFIG["STORAGE_BACKEND"] == "s3"


def test_exactly_one_beat_and_never_two_at_once():
    beats = [w for w, c in our_containers() if "beat" in c["command"]]
    assert [b["metadata"]["name"] for b in beats] == ["tts-beat"]
    (beat,) = beats
    assert beat["kind"] == "Deployment"
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"] == {"type": "Recreate"}
    names = {a["spec"]["scaleTargetRef"]["name"] for a in of_kind("HorizontalPodAutoscaler")}
    names |= {s["spec"]["scaleTargetRef"]["name"] for s in of_kind("ScaledObject")}
    assert "tts-beat" not in names


def test_the_commands_are_the_service_own():
    queues = set()
    for _workload, container in our_containers():
        command = container["command"]
        assert command[:2] == ["python", "-m"], command
        module = command[2]
        if module == "celery":
            schedule = command[command.index("--schedule") + 1]
            assert command == ["python", *beat_command(schedule)[1:]]
            assert schedule.startswith(CONFIG["DATA_DIR"] + "/")
            alive = ["python", "-m", "scripts.beat_alive", schedule]
            assert container["livenessProbe"]["exec"]["command"] == alive
        else:
            assert module in {"scripts.api", "scripts.worker", "api.wyoming"}
            assert importlib.util.find_spec(module) is not None
        if module == "scripts.worker":
            pool = command[3]
            built = pool_commands(2)[f"worker-{pool}"]
            queues |= set(built[built.index("-Q") + 1].split(","))
    assert queues == set(ALL_QUEUES)  # the pools consume every queue between them


def test_the_probes_ask_the_right_questions():
    for _workload, container in our_containers():
        command = container["command"]
        probes = {kind: container.get(f"{kind}Probe") for kind in ("startup", "liveness")}
        if command[2] == "scripts.api":
            probes["readiness"] = container["readinessProbe"]
            paths = {kind: probe["httpGet"]["path"] for kind, probe in probes.items()}
            assert paths == {"startup": "/live", "liveness": "/live", "readiness": "/ready"}
            for probe in probes.values():
                (host,) = probe["httpGet"]["httpHeaders"]
                assert host["name"] == "Host"
                assert host["value"] in CONFIG["ALLOWED_HOSTS"].split(",")
        elif command[2] == "scripts.worker":
            probes["readiness"] = container["readinessProbe"]
            for probe in probes.values():
                alive = probe["exec"]["command"]
                assert alive == ["python", "-m", "scripts.worker_alive", command[3]]
                module = alive[2]
                assert importlib.util.find_spec(module)
        elif command[2] == "api.wyoming":
            probes["readiness"] = container["readinessProbe"]
            for probe in probes.values():
                alive = probe["exec"]["command"]
                assert alive == ["python", "-m", "api.wyoming.alive"]
                assert importlib.util.find_spec(alive[2])
        else:
            assert all(probes.values())


def test_every_secret_reference_is_a_key_of_the_secret():
    keys = set(SECRET["stringData"])
    referenced = set()
    for workload in WORKLOADS:
        for container in containers(workload):
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == "tts-secrets" and ref["key"] in keys, ref
                    referenced.add(ref["key"])
    for auth in of_kind("TriggerAuthentication"):
        for ref in auth["spec"]["secretTargetRef"]:
            assert ref["name"] == "tts-secrets" and ref["key"] in keys
            referenced.add(ref["key"])
    assert referenced == keys  # and the template holds nothing that nobody reads


def test_the_secret_template_holds_placeholders_the_service_refuses():
    for name, value in SECRET["stringData"].items():
        assert value.startswith("<") and value.endswith(">"), name
    placeholder = SECRET["stringData"]["SECRET_KEY"]
    assert len(placeholder) < MIN_SECRET_LENGTH or placeholder in PLACEHOLDER_SECRETS
    with pytest.raises(ValueError, match="SECRET_KEY must be a random value"):
        Settings(_env_file=None, SECRET_KEY=placeholder, API_HOST="0.0.0.0")


def test_every_container_of_the_image_gets_the_same_settings_and_redis():
    urls = set()
    for workload, container in our_containers():
        assert container["envFrom"] == [{"configMapRef": {"name": "tts-config"}}]
        env = env_of(container)
        names = list(env)
        # $(REDIS_PASSWORD) is expanded only from variables defined before it.
        assert names.index("REDIS_PASSWORD") < names.index("REDIS_URL")
        urls.add(env["REDIS_URL"]["value"])
        expected = set(SECRET["stringData"]) | {"REDIS_URL"}
        if "scripts.api" not in container["command"]:
            expected -= {"ADMIN_PASSWORD"}  # the API alone creates the admin user
        assert set(names) == expected, workload["metadata"]["name"]
    redis_service = named("Service", "tts-redis")["metadata"]["name"]
    assert urls == {f"redis://:$(REDIS_PASSWORD)@{redis_service}:6379/0"}


def test_every_configured_name_is_a_setting():
    # REDIS_PASSWORD is Redis's and KEDA's; the service reads it inside REDIS_URL.
    names = set(CONFIG) | set(SECRET["stringData"]) - {"REDIS_PASSWORD"}
    unknown = names - set(env_fields(Settings))
    assert not unknown, unknown


def test_services_reach_ports_that_exist():
    for service in of_kind("Service"):
        selector = service["spec"]["selector"]
        chosen = [
            w
            for w in WORKLOADS
            if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert chosen, service["metadata"]["name"]
        for port in service["spec"]["ports"]:
            for workload in chosen:
                ports = {
                    p["name"]: p["containerPort"]
                    for c in containers(workload, init=False)
                    for p in c.get("ports", [])
                }
                assert port["targetPort"] in ports, (service["metadata"]["name"], workload)


def test_worker_metrics_are_announced_on_the_configured_port():
    port = int(CONFIG["WORKER_METRICS_PORT"])
    workers = [(w, c) for w, c in our_containers() if c["command"][2] == "scripts.worker"]
    assert len(workers) == 3  # the local pool, the network pool, the GPU pool
    for workload, container in workers:
        annotations = workload["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert int(annotations["prometheus.io/port"]) == port
        assert {"name": "metrics", "containerPort": port} in container["ports"]


def test_the_api_scales_on_cpu_and_its_deployment_leaves_the_count_to_it():
    (hpa,) = of_kind("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    api = named("Deployment", target["name"])
    assert target["kind"] == "Deployment" and "replicas" not in api["spec"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    # Utilization is a share of the request, so the request must be set.
    assert containers(api, init=False)[0]["resources"]["requests"]["cpu"]


def test_keda_scales_each_pool_on_the_queues_that_pool_consumes():
    deployments = {d["metadata"]["name"]: d for d in of_kind("Deployment")}
    auths = {a["metadata"]["name"] for a in of_kind("TriggerAuthentication")}
    redis_host = f"{named('Service', 'tts-redis')['metadata']['name']}.tts.svc.cluster.local"
    scaled = of_kind("ScaledObject")
    assert len(scaled) == 2
    for obj in scaled:
        assert obj["apiVersion"] == "keda.sh/v1alpha1"
        target = deployments[obj["spec"]["scaleTargetRef"]["name"]]
        assert "replicas" not in target["spec"]  # KEDA's HPA owns the count
        assert 1 <= obj["spec"]["minReplicaCount"] <= obj["spec"]["maxReplicaCount"]
        (container,) = containers(target, init=False)
        pool = container["command"][3]
        built = pool_commands(2)[f"worker-{pool}"]
        consumed = set(built[built.index("-Q") + 1].split(","))
        for trigger in obj["spec"]["triggers"]:
            assert trigger["type"] == "redis"
            metadata = trigger["metadata"]
            assert metadata["listName"] in consumed, (pool, metadata["listName"])
            assert metadata["address"] == f"{redis_host}:6379"
            assert int(metadata["listLength"]) > 0
            assert trigger["authenticationRef"]["name"] in auths
    listed = {t["metadata"]["listName"] for obj in scaled for t in obj["spec"]["triggers"]}
    assert listed == {"tts.blocks.local", "tts.blocks.network", "tts.control"}


def test_the_voices_of_the_image_are_copied_where_the_settings_look():
    dockerfile = (K8S.parent.parent / "Dockerfile").read_text()
    baked = re.search(r"PIPER_VOICE_DIR=(\S+)", dockerfile)[1]
    for _workload, container in our_containers(init=True):
        if container["name"] == "seed-voices":
            script = container["command"][-1]
            assert f"cp -R {baked}/. {CONFIG['PIPER_VOICE_DIR']}/" in script


def test_the_wyoming_server_listens_where_its_service_points():
    (workload,) = [w for w, c in our_containers() if c["command"][2:] == ["api.wyoming"]]
    (container,) = containers(workload, init=False)
    assert container["ports"] == [{"name": "wyoming", "containerPort": 10200}]
    settings = Settings(**{k: v for k, v in CONFIG.items() if k.startswith("WYOMING_")})
    assert settings.wyoming.port == 10200 and settings.wyoming.host == "0.0.0.0"
    service = named("Service", "tts-wyoming")
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"  # no authentication
    assert service["spec"]["ports"] == [{"name": "wyoming", "port": 10200, "targetPort": "wyoming"}]
