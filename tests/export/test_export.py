"""``amtflow export``: the triggers written from the definitions, checked by the tools that read
them (croniter for cron, systemd-analyze for units, the Kubernetes schemas for manifests)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.tmpfs import small_tmpfs

SECRET = "Tr1gger-s3cret-never-written"
DEFINITIONS = """\
version: 1
timezone: Europe/Amsterdam
batch_users:
  - {name: api, identifier: OPCONAPI, password: {env: AMT_API_PASSWORD}}
  - {name: other, identifier: OTHERAPI, password: {file: /run/secrets/amt/other.pw}}
agents:
  - {name: amt, batch_server_url: "http://127.0.0.1:9", batch_user: api}
schedules:
  - name: NIGHTLY
    start_time: "02:30"
    frequency: {days: [mon, tue, wed, thu, fri]}
    defaults: {agent: amt, application: DEMO2}
    jobs:
      - {name: A, task: batch_job, job_name: A, task_values: ["OUT=[[ENV:AMT_OUT]]"]}
  - name: Month End
    start_time: "+1 01:00"
    timezone: America/New_York
    frequency: {days: [fri, sun]}
    defaults: {agent: amt, application: DEMO2}
    jobs:
      - {name: B, task: batch_job, job_name: B}
  - name: EVERYDAY
    start_time: "06:15"
    timezone: UTC
    defaults: {agent: amt, application: DEMO2}
    jobs:
      - {name: C, task: batch_job, job_name: C}
  - name: ADHOC
    defaults: {agent: amt, application: DEMO2}
    jobs:
      - {name: D, task: batch_job, job_name: D}
  - name: ASKED
    start_time: "03:00"
    frequency: {on_request: true}
    defaults: {agent: amt, application: DEMO2}
    jobs:
      - {name: E, task: batch_job, job_name: E}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "definitions").mkdir()
    (tmp_path / "definitions" / "nightly.yaml").write_text(DEFINITIONS)
    return tmp_path


def export(project: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AMT_API_PASSWORD": SECRET, "AMT_OUT": SECRET}
    return subprocess.run(
        [sys.executable, "-m", "amtflow", "export", *map(str, args)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def exported(project: Path, target: str, *args: str | Path) -> dict[str, str]:
    out = project / "out"
    result = export(project, target, "--out", out, *args)
    assert result.returncode == 0, result.stderr
    assert "skipped schedule ADHOC: no start_time, no trigger" in result.stderr
    assert "skipped schedule ASKED: runs on request only, no trigger" in result.stderr
    files = {path.name: path.read_text() for path in out.iterdir()}
    assert all(SECRET not in text for text in files.values())
    return files


# -- cron ---------------------------------------------------------------------------------------


def _cron_entries(text: str) -> dict[str, tuple[str, str, list[str]]]:
    """schedule -> (CRON_TZ, the five time fields, the command's words)."""
    entries: dict[str, tuple[str, str, list[str]]] = {}
    zone = ""
    for line in text.splitlines():
        if line.startswith("CRON_TZ="):
            zone = line.removeprefix("CRON_TZ=")
        elif line and not line.startswith("#") and "=" not in line.split()[0]:
            fields, command = " ".join(line.split()[:5]), " ".join(line.split()[5:])
            words = shlex.split(command)
            entries[words[words.index("--schedule") + 1]] = (zone, fields, words)
    return entries


def test_cron_lines_fire_on_the_schedule_s_days_at_its_time_in_its_zone(project: Path) -> None:
    from croniter import croniter

    text = exported(project, "cron", "--amtflow", "/opt/amtflow/bin/amtflow")["amtflow.cron"]
    entries = _cron_entries(text)
    assert set(entries) == {"NIGHTLY", "Month End", "EVERYDAY"}

    def fires(schedule: str, base: str, count: int) -> list[str]:
        zone, fields, _ = entries[schedule]
        start = dt.datetime.fromisoformat(base).replace(tzinfo=ZoneInfo(zone))
        it = croniter(fields, start)
        return [it.get_next(dt.datetime).strftime("%a %Y-%m-%d %H:%M %Z") for _ in range(count)]

    # Friday afternoon: the next weekday starts are Monday's and Tuesday's, in Amsterdam time
    assert fires("NIGHTLY", "2026-11-27T12:00", 2) == [
        "Mon 2026-11-30 02:30 CET",
        "Tue 2026-12-01 02:30 CET",
    ]
    # +1 01:00 for Friday and Sunday dates: Saturday and Monday at 01:00 in New York
    assert fires("Month End", "2026-11-24T12:00", 3) == [
        "Sat 2026-11-28 01:00 EST",
        "Mon 2026-11-30 01:00 EST",
        "Sat 2026-12-05 01:00 EST",
    ]
    assert fires("EVERYDAY", "2026-11-24T07:00", 2) == [
        "Wed 2026-11-25 06:15 UTC",
        "Thu 2026-11-26 06:15 UTC",
    ]
    words = entries["Month End"][2]
    assert words[words.index("/opt/amtflow/bin/amtflow") :] == [
        "/opt/amtflow/bin/amtflow",
        "run",
        "definitions/nightly.yaml",
        "--schedule",
        "Month End",
        "--date",
        "yesterday",
        "--plain",
    ]
    assert entries["NIGHTLY"][2][-3:] == ["--date", "today", "--plain"]
    assert "It reads AMT_API_PASSWORD, AMT_OUT from" in text


def test_a_cron_command_runs_as_written(project: Path, tmp_path: Path) -> None:
    """The command of a line, run by /bin/sh as cron would: today is not a date of the schedule,
    so it ends with "nothing to run" and exit 0 (after sourcing the env file: a missing one stops
    the command)."""
    definitions = project / "definitions" / "nightly.yaml"
    definitions.write_text(
        DEFINITIONS.replace(
            "    timezone: UTC\n", "    timezone: UTC\n    frequency: {dates: [2000-01-01]}\n"
        )
    )
    env_file = tmp_path / "amtflow.env"
    env_file.write_text(f"AMT_API_PASSWORD={SECRET}\nAMT_OUT=/data\n")
    amtflow = shutil.which("amtflow") or "amtflow"
    text = exported(
        project,
        "cron",
        "--amtflow",
        amtflow,
        "--env-file",
        env_file,
        "--state-dir",
        tmp_path / "state dir",
    )["amtflow.cron"]
    line = next(line for line in text.splitlines() if "EVERYDAY" in line and line[0] != "#")
    command = " ".join(line.split()[5:]).replace("\\%", "%")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AMT_", "AMTFLOW_"))}
    result = subprocess.run(
        ["/bin/sh", "-c", command], cwd="/", env=clean, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nothing to run" in result.stderr
    assert "is not one of its dates" in result.stderr


def test_cron_user_column_for_etc_cron_d(project: Path) -> None:
    text = exported(project, "cron", "--user", "amtops")["amtflow.cron"]
    line = next(
        line for line in text.splitlines() if "NIGHTLY" in line and not line.startswith("#")
    )
    assert line.split()[5] == "amtops"


# -- systemd -----------------------------------------------------------------------------------

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None,
    reason="systemd-analyze is not installed (.ci/install-systemd installs it)",
)


def _unit(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


@needs_systemd
def test_systemd_units_pass_systemd_analyze_verify(project: Path) -> None:
    files = exported(project, "systemd", "--amtflow", shutil.which("amtflow") or "/bin/true")
    assert sorted(files) == [
        "amtflow-everyday.service",
        "amtflow-everyday.timer",
        "amtflow-month-end.service",
        "amtflow-month-end.timer",
        "amtflow-nightly.service",
        "amtflow-nightly.timer",
    ]
    units = sorted(str(project / "out" / name) for name in files)
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", *units], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    service = _unit(files["amtflow-month-end.service"])
    assert service["Type"] == ["oneshot"]
    assert shlex.split(service["ExecStart"][0])[1:] == [
        "run",
        "definitions/nightly.yaml",
        "--schedule",
        "Month End",
        "--date",
        "yesterday",
        "--plain",
    ]
    assert service["EnvironmentFile"] == ["/etc/amtflow/amtflow.env"]
    assert service["WorkingDirectory"] == [str(project)]
    timer = _unit(files["amtflow-month-end.timer"])
    assert timer["Persistent"] == ["true"]
    assert timer["Unit"] == ["amtflow-month-end.service"]


@needs_systemd
def test_a_broken_unit_fails_systemd_analyze_verify(project: Path) -> None:
    """The tool judges: the same unit with one bad setting is refused."""
    files = exported(project, "systemd", "--amtflow", shutil.which("amtflow") or "/bin/true")
    broken = project / "out" / "amtflow-nightly.service"
    broken.write_text(files["amtflow-nightly.service"].replace("Type=oneshot", "Type=oneshoot"))
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(broken)], capture_output=True, text=True, timeout=60
    )
    assert "oneshoot" in result.stderr


@needs_systemd
@pytest.mark.parametrize(
    ("timer", "base", "expected"),
    [
        # Friday afternoon UTC: Monday and Tuesday 02:30 in Amsterdam (CET, UTC+1)
        (
            "amtflow-nightly.timer",
            "2026-11-27 12:00 UTC",
            ["2026-11-30 01:30:00", "2026-12-01 01:30:00"],
        ),
        # the spring-forward Monday does not matter, the summer offset does (CEST, UTC+2)
        (
            "amtflow-nightly.timer",
            "2026-03-27 12:00 UTC",
            ["2026-03-30 00:30:00", "2026-03-31 00:30:00"],
        ),
        # Saturday and Monday 01:00 in New York (EST, UTC-5)
        (
            "amtflow-month-end.timer",
            "2026-11-24 12:00 UTC",
            ["2026-11-28 06:00:00", "2026-11-30 06:00:00"],
        ),
    ],
)
def test_systemd_timers_elapse_at_the_start_time_in_the_zone(
    project: Path, timer: str, base: str, expected: list[str]
) -> None:
    files = exported(project, "systemd", "--amtflow", "/bin/true")
    calendar = _unit(files[timer])["OnCalendar"][0]
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "calendar", calendar, "--iterations", "2", f"--base-time={base}"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TZ": "UTC"},
    )
    assert result.returncode == 0, result.stderr
    elapses = [
        " ".join(line.split(":", 1)[1].split()[1:3])
        for line in result.stdout.splitlines()
        if "Next elapse" in line or "Iter. #" in line
    ]
    assert elapses == expected


# -- kubernetes --------------------------------------------------------------------------------


def _manifests(project: Path, *args: str) -> list[dict]:  # type: ignore[type-arg]
    text = exported(project, "kubernetes", *args)["amtflow.yaml"]
    return [doc for doc in yaml.safe_load_all(text) if doc]


def test_kubernetes_manifests_pass_the_kubernetes_schemas(project: Path) -> None:
    import kubernetes_validate

    documents = _manifests(project, "--namespace", "batch", "--image", "registry.example/amtflow:1")
    kinds = [(doc["kind"], doc["metadata"]["name"]) for doc in documents]
    assert kinds == [
        ("ConfigMap", "amtflow-definitions"),
        ("PersistentVolumeClaim", "amtflow-state"),
        ("CronJob", "amtflow-nightly"),
        ("CronJob", "amtflow-month-end"),
        ("CronJob", "amtflow-everyday"),
    ]
    version = kubernetes_validate.latest_version()
    # The newest Kubernetes and 1.31, where podFailurePolicy became GA: a field left out that only
    # newer schemas default (onPodConditions' status, required up to 1.33) would be refused there.
    for doc in documents:
        for target in ("1.31.0", version):
            kubernetes_validate.validate(doc, target, strict=True)
    broken = {**documents[2], "spec": {**documents[2]["spec"], "concurrencyPolicyy": "Forbid"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)


def test_kubernetes_cronjob_runs_on_time_safely_and_retries_only_lost_pods(project: Path) -> None:
    from croniter import croniter

    documents = _manifests(project)
    configmap = documents[0]
    assert configmap["data"] == {"definitions__nightly.yaml": DEFINITIONS}
    cronjob = next(doc for doc in documents if doc["metadata"]["name"] == "amtflow-month-end")
    spec = cronjob["spec"]
    assert spec["timeZone"] == "America/New_York"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] == 3600
    start = dt.datetime(2026, 11, 24, 12, tzinfo=ZoneInfo(spec["timeZone"]))
    fire = croniter(spec["schedule"], start).get_next(dt.datetime)
    assert fire.strftime("%a %H:%M") == "Sat 01:00"
    job = spec["jobTemplate"]["spec"]
    rules = job["podFailurePolicy"]["rules"]
    assert rules[0] == {
        "action": "FailJob",
        "onExitCodes": {"containerName": "amtflow", "operator": "In", "values": [1, 2]},
    }
    assert rules[1] == {
        "action": "Ignore",
        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
    }
    assert job["backoffLimit"] > 0  # a pod killed otherwise (OOM, node lost) is retried
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["args"] == [
        "run",
        "/etc/amtflow/definitions/definitions/nightly.yaml",
        "--schedule",
        "Month End",
        "--date",
        "yesterday",
        "--plain",
    ]
    env = {item["name"]: item for item in container["env"]}
    assert env["AMTFLOW_STATE_DIR"]["value"].startswith("/var/lib/amtflow/")
    assert env["AMT_API_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "amtflow-secrets",
        "key": "AMT_API_PASSWORD",
        "optional": False,
    }
    assert env["AMT_OUT"]["valueFrom"]["secretKeyRef"]["optional"] is True
    assert not any("value" in item for name, item in env.items() if name.startswith("AMT_"))
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/etc/amtflow/definitions"]["readOnly"] is True
    # a password file comes from the same Secret, mounted where the definitions say it is
    assert mounts["/run/secrets/amt/other.pw"] == {
        "name": "password-files",
        "mountPath": "/run/secrets/amt/other.pw",
        "subPath": "other.pw",
        "readOnly": True,
    }
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["password-files"]["secret"]["secretName"] == "amtflow-secrets"
    assert volumes["password-files"]["secret"]["items"] == [{"key": "other.pw", "path": "other.pw"}]
    assert volumes["state"]["persistentVolumeClaim"]["claimName"] == "amtflow-state"
    assert volumes["definitions"]["configMap"]["items"] == [
        {"key": "definitions__nightly.yaml", "path": "definitions/nightly.yaml"}
    ]


# -- what is exported, and when nothing is ------------------------------------------------------


def test_nothing_to_export_says_so(tmp_path: Path) -> None:
    (tmp_path / "definitions").mkdir()
    untimed = DEFINITIONS.split("schedules:", maxsplit=1)[0] + textwrap.dedent(
        """\
        schedules:
          - name: ADHOC
            defaults: {agent: amt, application: DEMO2}
            jobs:
              - {name: D, task: batch_job, job_name: D}
        """
    )
    (tmp_path / "definitions" / "adhoc.yaml").write_text(untimed)
    result = export(tmp_path, "cron")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "nothing to export: no schedule has a start_time" in result.stderr


def test_invalid_definitions_are_not_exported(project: Path) -> None:
    path = project / "definitions" / "nightly.yaml"
    path.write_text(DEFINITIONS.replace('start_time: "02:30"', 'start_time: "2:30"'))
    result = export(project, "systemd", "--out", project / "out")
    assert result.returncode == 2
    assert "nightly.yaml:10:17: error: start_time '2:30' in schedule 'NIGHTLY' is not a time" in (
        result.stderr
    )
    assert not (project / "out").exists()


def test_seconds_cannot_be_a_cron_time(project: Path) -> None:
    path = project / "definitions" / "nightly.yaml"
    path.write_text(DEFINITIONS.replace('start_time: "02:30"', 'start_time: "02:30:15"'))
    result = export(project, "cron")
    assert result.returncode == 2
    assert "start_time 02:30:15 has seconds; cron fires on whole minutes" in result.stderr


def test_unknown_target_is_a_usage_error(project: Path) -> None:
    result = export(project, "launchd")
    assert result.returncode == 2
    assert "'launchd' is not one of 'cron', 'systemd', 'kubernetes'" in result.stderr


# -- hostile names and options --------------------------------------------------------------------


@pytest.mark.parametrize("target", ["cron", "systemd", "kubernetes"])
def test_a_file_name_with_a_line_break_cannot_add_a_crontab_entry(
    project: Path, target: str
) -> None:
    # quoting cannot carry a newline in a crontab line or a unit file: it would start another one
    hostile = project / "definitions" / "a\n* * * * * touch pwned #.yaml"
    (project / "definitions" / "nightly.yaml").rename(hostile)
    result = export(project, target, "--out", project / "out")
    assert result.returncode == 2, result.stdout
    assert result.stderr.count("\n") == 1, result.stderr
    assert "its file 'definitions/a\\u000a* * * * * touch pwned #.yaml' holds a line break" in (
        result.stderr
    )
    assert not (project / "out").exists()


@pytest.mark.parametrize("option", ["--workdir", "--amtflow", "--user", "--env-file", "--log-dir"])
def test_an_option_with_a_line_break_cannot_add_a_unit_setting(project: Path, option: str) -> None:
    value = "/srv/x\nExecStartPre=/bin/touch /tmp/pwned"
    result = export(project, "systemd", "--out", project / "out", option, value)
    assert result.returncode == 2, result.stdout
    assert f"{option} '/srv/x\\u000aExecStartPre=/bin/touch /tmp/pwned' holds a line break" in (
        result.stderr
    )
    assert not (project / "out").exists()


def test_kubernetes_keys_are_valid_and_one_per_file(project: Path) -> None:
    # two password files of one name must not share a Secret key (one user would get the other's
    # password), and a file name with a blank must not make a ConfigMap key Kubernetes refuses
    text = DEFINITIONS.replace(
        "  - {name: other,",
        "  - {name: third, identifier: THIRDAPI, password: {file: /run/secrets/b/other.pw}}\n"
        "  - {name: other,",
    ).replace(
        "batch_user: api}",
        "batch_user: api}\n  - {name: amt3, batch_server_url: 'http://127.0.0.1:9', batch_user: third}",
    )
    (project / "definitions" / "nightly.yaml").unlink()
    (project / "definitions" / "my nightly.yaml").write_text(text)
    out = project / "out"
    result = export(project, "kubernetes", "--out", out)
    assert result.returncode == 0, result.stderr
    objects = list(yaml.safe_load_all((out / "amtflow.yaml").read_text()))
    (configmap,) = (o for o in objects if o["kind"] == "ConfigMap")
    assert list(configmap["data"]) == ["definitions__my_nightly.yaml"]
    cronjob = next(o for o in objects if o["kind"] == "CronJob")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m.get("subPath") for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["/run/secrets/amt/other.pw"] != mounts["/run/secrets/b/other.pw"]
    (secret,) = (v["secret"] for v in pod["volumes"] if "secret" in v)
    assert sorted(item["key"] for item in secret["items"]) == sorted(
        [mounts["/run/secrets/amt/other.pw"], mounts["/run/secrets/b/other.pw"]]
    )
    items = {
        i["key"]: i["path"]
        for v in pod["volumes"]
        if "configMap" in v
        for i in v["configMap"]["items"]
    }
    assert items == {"definitions__my_nightly.yaml": "definitions/my nightly.yaml"}


@pytest.mark.parametrize(
    ("target", "name"), [("cron", "amtflow.cron"), ("kubernetes", "amtflow.yaml")]
)
def test_a_symlink_planted_in_the_out_folder_is_replaced_not_followed(
    project: Path, target: str, name: str
) -> None:
    victim = project / "victim"
    victim.write_text("precious\n")
    out = project / "out"
    out.mkdir()
    (out / name).symlink_to(victim)
    result = export(project, target, "--out", out)
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "precious\n"
    assert not (out / name).is_symlink()
    assert "Written by" in (out / name).read_text() or "written by" in (out / name).read_text()
    assert sorted(p.name for p in out.iterdir()) == [name]  # no temporary file left


@pytest.mark.parametrize("user", ["root touch /tmp/pwned;", "a b", "$(id)", "-rf"])
def test_user_must_be_an_account_name_not_words_of_a_crontab_line(project: Path, user: str) -> None:
    # /etc/cron.d lines are "fields user command": blanks in the user would start the command
    result = export(project, "cron", "--out", project / "out", "--user", user)
    assert result.returncode == 2, result.stdout
    assert f"--user '{user}' is not an account name" in result.stderr
    assert not (project / "out").exists()


def test_an_account_name_is_written_as_given(project: Path) -> None:
    files = exported(project, "cron", "--user", "svc_amt-flow.1")
    assert " svc_amt-flow.1 cd " in files["amtflow.cron"]


@pytest.mark.parametrize("target", ["cron", "systemd"])
@pytest.mark.parametrize("option", ["--workdir", "--env-file"])
def test_a_relative_workdir_or_env_file_is_refused(project: Path, target: str, option: str) -> None:
    # systemd refuses the unit ("path is not absolute"); cron's `. amtflow.env` searches PATH
    result = export(project, target, "--out", project / "out", option, "amtflow.env")
    assert result.returncode == 2, result.stdout
    assert f"{option} 'amtflow.env' must be an absolute path" in result.stderr
    assert not (project / "out").exists()


def test_an_out_folder_with_escape_codes_is_shown_safely(project: Path) -> None:
    result = export(project, "cron", "--out", "out\x1b[2J")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stderr
    assert "wrote amtflow.cron to out\\u001b[2J" in result.stderr


NOTIFIED = DEFINITIONS.replace(
    "schedules:\n",
    "notifications:\n"
    "  - {name: ops, urls: [{env: OPS_NOTIFY_URL}], events: [run_failed]}\n"
    "  - {name: managers, urls: [{file: /run/secrets/mail_url}], events: [run_failed]}\n"
    "schedules:\n",
    1,
).replace('    start_time: "02:30"\n', '    start_time: "02:30"\n    notify: [ops, managers]\n', 1)


def test_the_pod_gets_the_notification_urls_never_blocking_the_run(project: Path) -> None:
    """A CronJob's run must be able to tell people it failed: the Apprise URLs that the
    notifications reference (an environment variable, a file) come from the Secret as the
    passwords do, but optionally, as sending never blocks a run: a Secret without them
    still starts the pod, and the run warns that it cannot notify."""
    import kubernetes_validate

    (project / "definitions" / "nightly.yaml").write_text(NOTIFIED)
    documents = _manifests(project)
    cronjob = next(doc for doc in documents if doc["metadata"]["name"] == "amtflow-nightly")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {item["name"]: item for item in container["env"]}
    assert env["OPS_NOTIFY_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "amtflow-secrets",
        "key": "OPS_NOTIFY_URL",
        "optional": True,
    }
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    mount = mounts["/run/secrets/mail_url"]
    assert mount["readOnly"] is True and mount["subPath"] == "mail_url"
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["secret"]["secretName"] == "amtflow-secrets"
    assert volume["secret"]["items"] == [{"key": "mail_url", "path": "mail_url"}]
    assert volume["secret"]["optional"] is True
    password = next(v for v in pod["volumes"] if v["name"] == "password-files")
    assert "optional" not in password["secret"]  # a run cannot go on without its passwords
    for doc in documents:
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


@pytest.mark.parametrize(("target", "name"), [("cron", "amtflow.cron"), ("systemd", None)])
def test_cron_and_systemd_name_the_notification_variables_to_provide(
    project: Path, target: str, name: str | None
) -> None:
    (project / "definitions" / "nightly.yaml").write_text(NOTIFIED)
    files = exported(project, target)
    text = files[name or "amtflow-nightly.service"]
    note = next(line for line in text.splitlines() if "AMT_API_PASSWORD" in line)
    assert "OPS_NOTIFY_URL" in note, note


# -- a start_time the clocks jump over -----------------------------------------------------------

GAPPED = """\
version: 1
timezone: Europe/Amsterdam
batch_users: [{name: api, identifier: OPCONAPI, password: {env: AMT_API_PASSWORD}}]
agents: [{name: amt, batch_server_url: "http://127.0.0.1:9", batch_user: api}]
schedules:
  - name: NIGHTLY
    start_time: "02:30"
    defaults: {agent: amt, application: DEMO2}
    jobs: [{name: A, task: batch_job, job_name: A}]
  - name: WEEKDAYS
    start_time: "02:30"
    frequency: {days: [mon, tue, wed, thu, fri]}
    defaults: {agent: amt, application: DEMO2}
    jobs: [{name: B, task: batch_job, job_name: B}]
  - name: EARLY
    start_time: "01:30"
    defaults: {agent: amt, application: DEMO2}
    jobs: [{name: C, task: batch_job, job_name: C}]
"""


def _next_spring_forward(zone: str) -> dt.date:
    """The next day (from today) whose 02:30 does not exist in ``zone``."""
    tz, day = ZoneInfo(zone), dt.date.today()
    while True:
        wall = dt.datetime.combine(day, dt.time(2, 30), tzinfo=tz)
        if wall.astimezone(dt.timezone.utc).astimezone(tz).time() != dt.time(2, 30):
            return day
        day += dt.timedelta(days=1)


@pytest.mark.parametrize("target", ["systemd", "kubernetes"])
def test_a_start_time_the_clocks_skip_is_said_at_export(project: Path, target: str) -> None:
    """systemd and Kubernetes' CronJob controller do not fire a time that does not exist that
    day: the schedule date of the spring-forward night would silently not run. The export says
    which date, and how to get it run."""
    (project / "definitions" / "nightly.yaml").write_text(GAPPED)
    result = export(project, target, "--out", project / "out")
    assert result.returncode == 0, result.stderr
    gap = _next_spring_forward("Europe/Amsterdam")
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, result.stderr  # WEEKDAYS never fires on a Sunday, EARLY exists
    (warning,) = warnings
    assert "schedule NIGHTLY: 02:30 does not exist in Europe/Amsterdam on " in warning
    assert gap.isoformat() in warning
    assert f"--schedule NIGHTLY --date {gap.isoformat()}" in warning


def test_cron_is_not_warned_about_a_start_time_the_clocks_skip(project: Path) -> None:
    (project / "definitions" / "nightly.yaml").write_text(GAPPED)
    result = export(project, "cron")
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr


@needs_systemd
def test_systemd_indeed_skips_the_day_the_export_warns_about(project: Path) -> None:
    """The warning is the tool's truth: systemd-analyze shows the timer passing over that date."""
    (project / "definitions" / "nightly.yaml").write_text(GAPPED)
    assert export(project, "systemd", "--out", project / "out").returncode == 0
    calendar = _unit((project / "out" / "amtflow-nightly.timer").read_text())["OnCalendar"][0]
    gap = _next_spring_forward("Europe/Amsterdam")
    result = subprocess.run(
        [
            SYSTEMD_ANALYZE,
            "calendar",
            calendar,
            "--iterations",
            "2",
            f"--base-time={gap - dt.timedelta(days=1)} 12:00 UTC",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TZ": "UTC"},
    )
    assert result.returncode == 0, result.stderr
    days = [
        line.split()[-3]
        for line in result.stdout.splitlines()
        if "Next elapse" in line or "Iter. #" in line
    ]
    assert gap.isoformat() not in days
    assert days[0] == (gap + dt.timedelta(days=1)).isoformat()


def test_definitions_a_configmap_cannot_hold_are_refused_in_one_line(project: Path) -> None:
    """The API server refuses a ConfigMap whose data totals more than 1 MiB (`ValidateConfigMap`:
    the sum of its values' bytes): `kubectl apply` would fail at deploy time, after the export
    said it wrote the manifests. A schedule big enough is refused at export, saying why."""
    jobs = "".join(
        f"      - {{name: JOB{n:05d}, task: batch_job, job_name: AMTJOB{n:05d}, queue: NIGHTQ}}\n"
        for n in range(14_000)
    )
    big = DEFINITIONS.split("  - name: Month End", 1)[0] + jobs
    (project / "definitions" / "nightly.yaml").write_text(big)
    assert len(big.encode()) > 1024 * 1024
    out = project / "out"
    result = export(project, "kubernetes", "--out", out)
    assert result.returncode == 2, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "error" in line]
    assert "1048576" in line and "ConfigMap" in line, line
    assert not out.exists()
    cron = export(project, "cron")  # a crontab reads the files where they are: no such limit
    assert cron.returncode == 0, cron.stderr


@pytest.fixture
def small_out(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs to export into (root only); skipped with the reason where it cannot be."""
    with small_tmpfs(tmp_path / "small", "64k") as mount:
        yield mount


def test_an_export_that_runs_out_of_room_leaves_the_last_export_whole(
    project: Path, small_out: Path
) -> None:
    """Units are written as a set: a disk that fills up half-way must not leave a new service
    beside an old timer, or a schedule's new timer without its service. Before, each file was
    put in place as soon as it was written."""
    out = small_out / "units"
    one = DEFINITIONS.split("  - name: Month End", maxsplit=1)[0]  # NIGHTLY alone
    (project / "definitions" / "nightly.yaml").write_text(one)
    assert export(project, "systemd", "--out", out).returncode == 0
    before = {path.name: path.read_text() for path in out.iterdir()}
    assert len(before) == 2

    (project / "definitions" / "nightly.yaml").write_text(DEFINITIONS)  # 3 schedules: 6 units
    with open(small_out / "filler", "wb", buffering=0) as filler:
        with contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 4096)
        filler.truncate(filler.tell() - 4096)  # room for one page: one unit more than before
    result = export(project, "systemd", "--out", out)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "No space left on device" in result.stderr and "Traceback" not in result.stderr
    assert {path.name: path.read_text() for path in out.iterdir()} == before
