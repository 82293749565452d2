"""Kubernetes manifests: a ConfigMap of the definition files, a PersistentVolumeClaim for state and
logs, and a CronJob per timed schedule.

The CronJob starts at the schedule's start_time in its zone (``timeZone``), never twice at once
(``concurrencyPolicy: Forbid``), and late by at most ``startingDeadlineSeconds``. Its pod runs as
non-root on a read-only root filesystem, writing only to the claim and an emptyDir ``/tmp``. The
Job's pod failure policy ends it at once when amtflow exits 1 (some job failed or was not run) or
2 (invalid definitions): running again would change nothing. A pod that was evicted, preempted or
killed is retried, and the new pod's ``amtflow run`` of the same date resumes the run. Secrets are
``secretKeyRef``s into a Secret the operator creates; their values never appear here. The
notifications' URLs come from it too, optionally: a run goes on without them (it says so)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from amtflow.errors import UsageError
from amtflow.export.triggers import (
    ExportedFile,
    ExportOptions,
    Trigger,
    cron_fields,
    env_names,
    notification_urls,
    unit_name,
)
from amtflow.model import Definitions

DEFINITIONS = PurePosixPath("/etc/amtflow/definitions")
DATA = PurePosixPath("/var/lib/amtflow")
CONTAINER = "amtflow"
PASSWORD_FILES = "password-files"  # the volumes of the Secret's files: a run needs these
NOTIFICATION_FILES = "notification-files"  # and may go without these
CONFIGMAP_LIMIT = 1024 * 1024  # bytes of its values, summed (the API server's ValidateConfigMap)
FINAL_EXIT_CODES = [1, 2]  # failed jobs or invalid definitions: a retry would end the same


@dataclass(frozen=True)
class _Sources:
    """What every CronJob of one export is made from."""

    definitions: Definitions
    files: dict[str, tuple[str, str]]  # ConfigMap key -> (path under DEFINITIONS, text)
    passwords: list[str]  # the Secret keys the batch users' passwords come from
    properties: list[str]  # the Secret keys of [[ENV:...]] properties (optional)
    options: ExportOptions


def render(
    definitions: Definitions, triggers: list[Trigger], options: ExportOptions
) -> list[ExportedFile]:
    """``amtflow.yaml``: every object, as one multi-document file for ``kubectl apply -f``."""
    files = _definition_files(definitions, options.root)
    sources = _Sources(definitions, files, *env_names(definitions), options)
    taken: set[str] = set()
    objects = [_configmap(files, options), _claim(options)]
    objects += [_cronjob(sources, t, unit_name(t.schedule, taken)) for t in triggers]
    text = "# Written by `amtflow export kubernetes` from the definitions; edit those.\n"
    text += yaml.dump_all(objects, Dumper=_Dumper, sort_keys=False, explicit_start=True)
    return [ExportedFile("amtflow.yaml", text)]


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the definition files in the ConfigMap) as readable literal blocks."""


def _text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text and _literal_safe(text) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def _literal_safe(text: str) -> bool:
    # a literal block keeps text exactly only without trailing blanks, tabs and odd characters
    lines = text.split("\n")
    return all(line == line.rstrip() and line.isprintable() for line in lines)


_Dumper.add_representer(str, _text)


def _definition_files(definitions: Definitions, root: Path) -> dict[str, tuple[str, str]]:
    """ConfigMap key -> (path below the definitions mount, text), for every file read."""
    read: list[tuple[str, str]] = []
    for shown in definitions.files:
        path = Path(shown).resolve()
        try:
            relative = path.relative_to(root.resolve()).as_posix()
        except ValueError:
            raise UsageError(
                f"{shown} is outside {root}: run amtflow export from a folder that holds"
                " every definition file (they go into the ConfigMap)"
            ) from None
        read.append((relative, path.read_text(encoding="utf-8")))
    size = sum(len(text.encode("utf-8")) for _, text in read)
    if size > CONFIGMAP_LIMIT:
        raise UsageError(
            f"the definition files total {size} bytes; a ConfigMap holds at most"
            f" {CONFIGMAP_LIMIT} (1 MiB), so the API server would refuse it: ship the"
            " definitions in the image or on a volume instead (export cron or systemd where"
            " they are on disk)"
        )
    keys = _unique_keys([relative.replace("/", "__") for relative, _ in read])
    return dict(zip(keys, read, strict=True))


def _metadata(name: str, options: ExportOptions, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if options.namespace:
        meta["namespace"] = options.namespace
    meta["labels"] = {"app.kubernetes.io/name": "amtflow", **labels}
    return meta


def _configmap(files: dict[str, tuple[str, str]], options: ExportOptions) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(options.configmap, options),
        "data": {key: text for key, (_, text) in sorted(files.items())},
    }


def _claim(options: ExportOptions) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _metadata(options.claim, options),
        "spec": {
            # ReadWriteOnce: runs of several schedules share it on one node at a time; use a
            # ReadWriteMany storage class to run them on several nodes at once
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": options.storage}},
        },
    }


def _cronjob(sources: _Sources, trigger: Trigger, name: str) -> dict[str, Any]:
    options = sources.options
    if len(name) > 52:  # CronJob names make Job names with an 11-character suffix
        raise UsageError(f"schedule {trigger.schedule}: the CronJob name {name} is too long")
    labels = {"amtflow.io/schedule": name.removeprefix("amtflow-")}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _metadata(name, options, **labels),
        "spec": {
            "schedule": cron_fields(trigger),
            "timeZone": trigger.zone,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": options.starting_deadline,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": {"app.kubernetes.io/name": "amtflow", **labels}},
                "spec": _job_spec(sources, trigger),
            },
        },
    }


def _job_spec(sources: _Sources, trigger: Trigger) -> dict[str, Any]:
    return {
        "backoffLimit": 6,
        "podFailurePolicy": {
            "rules": [
                {
                    "action": "FailJob",
                    "onExitCodes": {
                        "containerName": CONTAINER,
                        "operator": "In",
                        "values": FINAL_EXIT_CODES,
                    },
                },
                # evicted, preempted, node drained: retried without counting as a failure
                {
                    "action": "Ignore",
                    "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
                },
            ]
        },
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "amtflow"}},
            "spec": _pod_spec(sources, trigger),
        },
    }


def _pod_spec(sources: _Sources, trigger: Trigger) -> dict[str, Any]:
    options = sources.options
    schedule_file = str(DEFINITIONS / trigger.definitions)
    if trigger.definitions.is_absolute():
        raise UsageError(f"schedule {trigger.schedule}: its file is outside this folder")
    args = trigger.run_args()
    args[1] = schedule_file
    password_files, notice_files = _secret_files(sources.definitions)
    return {
        "restartPolicy": "Never",  # the Job makes a new pod; a pod failure policy needs Never
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": options.run_as,
            "runAsGroup": options.run_as,
            "fsGroup": options.run_as,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": CONTAINER,
                "image": options.image,
                "command": [options.amtflow],
                "args": args,
                "workingDir": str(DEFINITIONS),
                "env": _env(sources.passwords, sources.properties, options),
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "volumeMounts": [
                    {"name": "definitions", "mountPath": str(DEFINITIONS), "readOnly": True},
                    {"name": "state", "mountPath": str(DATA)},
                    {"name": "tmp", "mountPath": "/tmp"},
                    *_file_mounts(PASSWORD_FILES, password_files),
                    *_file_mounts(NOTIFICATION_FILES, notice_files),
                ],
            }
        ],
        "volumes": [
            {
                "name": "definitions",
                "configMap": {
                    "name": options.configmap,
                    "items": [
                        {"key": key, "path": path}
                        for key, (path, _) in sorted(sources.files.items())
                    ],
                },
            },
            {"name": "state", "persistentVolumeClaim": {"claimName": options.claim}},
            {"name": "tmp", "emptyDir": {}},
            *_secret_volume(PASSWORD_FILES, password_files, options),
            *_secret_volume(NOTIFICATION_FILES, notice_files, options, optional=True),
        ],
    }


def _secret_files(definitions: Definitions) -> tuple[dict[str, str], dict[str, str]]:
    """The password files and the notification URL files: each a path in the pod (relative ones
    are read from the definitions folder, the working directory) -> the key of the Secret that
    holds it (its file name). A file both name is a password file."""
    passwords = {u.password.file for u in definitions.batch_users.values() if u.password.file}
    notices = {url.file for url in notification_urls(definitions) if url.file} - passwords
    paths = sorted(passwords | notices)
    names = [PurePosixPath(path).name for path in paths]
    # two files of one name (/run/a/pw, /run/b/pw) must not share a key: one user would get the
    # other's password; the whole path names them apart
    keys = [
        path if names.count(name) > 1 else name for path, name in zip(paths, names, strict=True)
    ]
    mounted = dict(zip(paths, _unique_keys(keys), strict=True))
    return (
        {str(DEFINITIONS / path): mounted[path] for path in sorted(passwords)},
        {str(DEFINITIONS / path): mounted[path] for path in sorted(notices)},
    )


def _file_mounts(volume: str, files: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"name": volume, "mountPath": path, "subPath": key, "readOnly": True}
        for path, key in files.items()
    ]


def _unique_keys(texts: list[str]) -> list[str]:
    """ConfigMap and Secret keys (``[-._a-zA-Z0-9]+``) for ``texts``, one per text, unique."""
    keys: list[str] = []
    for text in texts:
        base = re.sub(r"[^-._a-zA-Z0-9]", "_", text.strip("/")) or "file"
        key, number = base, 2
        while key in keys:
            key, number = f"{base}-{number}", number + 1
        keys.append(key)
    return keys


def _secret_volume(
    volume: str, files: dict[str, str], options: ExportOptions, *, optional: bool = False
) -> list[dict[str, Any]]:
    """The Secret's keys ``files`` mount; ``optional``: a Secret without them still starts the
    pod (a notification's URL: sending never blocks a run; the run warns it cannot send)."""
    if not files:
        return []
    items = [{"key": key, "path": key} for key in sorted(set(files.values()))]
    secret: dict[str, Any] = {"secretName": options.secret, "items": items, "defaultMode": 0o400}
    if optional:
        secret["optional"] = True
    return [{"name": volume, "secret": secret}]


def _env(
    passwords: list[str], properties: list[str], options: ExportOptions
) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": "AMTFLOW_STATE_DIR", "value": str(DATA / "state")},
        {"name": "AMTFLOW_LOG_DIR", "value": str(DATA / "logs")},
        {"name": "HOME", "value": "/tmp"},
    ]
    for name, optional in [*((n, False) for n in passwords), *((n, True) for n in properties)]:
        reference = {"name": options.secret, "key": name, "optional": optional}
        env.append({"name": name, "valueFrom": {"secretKeyRef": reference}})
    return env
