"""Hostile definition files built at test time: the big, the binary and the file-system tricks.

Each builder writes into a fresh folder (a git repository root, so includes have a boundary)
and returns the path to give ``amtflow validate``; ``expect`` is a piece of the one clear error.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from amtflow.definitions.yamlload import MAX_NODES

MB = 1024 * 1024
VALID_HEAD = "version: 1\n"
JOB = (
    "version: 1\nbatch_users: [{name: u, identifier: U, password: {env: P}}]\n"
    "agents: [{name: a, batch_server_url: 'http://h:1', batch_user: u}]\n"
    "schedules:\n  - name: S\n    defaults: {agent: a, application: APP}\n    jobs:\n"
)


@dataclass(frozen=True)
class Generated:
    """One hostile input: how to build it, and a piece of the error it must produce."""

    name: str
    build: Callable[[Path], Path]
    expect: str

    def __str__(self) -> str:
        return self.name


def _file(name: str, content: bytes | str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path

    return build


def _sized(
    name: str, head: bytes, size: int, fill: bytes = b"#" * 79 + b"\n"
) -> Callable[[Path], Path]:
    """A file of ``size`` bytes written in chunks (never held in memory whole)."""

    def build(folder: Path) -> Path:
        path = folder / name
        with path.open("wb") as out:
            out.write(head)
            left = size - len(head)
            chunk = fill * (MB // len(fill))
            while left > 0:
                out.write(chunk[:left])
                left -= len(chunk)
        return path

    return build


def _with_includes(
    main: str, files: dict[str, str], links: dict[str, str] | None = None, fifo: str | None = None
) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
        for name, target in (links or {}).items():
            os.symlink(target, folder / name)
        if fifo:
            os.mkfifo(folder / fifo)
        path = folder / "main.yaml"
        path.write_text(main)
        return path

    return build


def _include_chain(depth: int) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        for level in range(depth):
            (folder / f"c{level}.yaml").write_text(f"include: [c{level + 1}.yaml]\n")
        (folder / f"c{depth}.yaml").write_text("version: 2\n")
        return folder / "c0.yaml"

    return build


def _nested_flow(depth: int) -> bytes:
    return b"a: " + b"[" * depth + b"]" * depth + b"\n"


def _nested_block_sequences(depth: int) -> bytes:
    return b"a:\n  " + b"- " * depth + b"x\n"


def _nested_block_mappings(depth: int) -> bytes:
    return "".join(" " * level + f"k{level}:\n" for level in range(depth)).encode()


def _many_keys(count: int) -> bytes:
    return b"a: [" + b"{a}," * count + b"]\n"


def _distinct_keys(limit: int) -> bytes:
    lines, number = [], 0
    size = 0
    while True:
        line = f"k{number:x}:\n".encode()
        if size + len(line) > limit:
            return b"".join(lines)
        lines.append(line)
        size += len(line)
        number += 1


def _alias_to_huge_scalar() -> bytes:
    return b"properties:\n  A: &a '" + b"x" * (3 * MB) + b"'\n" + b"x: [" + b"*a," * 20_000 + b"]\n"


def _billion_laughs_keys() -> str:
    lines = ["l0: &l0 {k: lol}"]
    for level in range(1, 12):
        refs = ", ".join(f"k{i}: *l{level - 1}" for i in range(10))
        lines.append(f"l{level}: &l{level} {{{refs}}}")
    return "\n".join(lines) + "\n"


GENERATED: list[Generated] = [
    Generated("file_100mb", _sized("big.yaml", b"version: 1\n", 100 * MB), "file too large"),
    Generated(
        "file_just_over_limit", _sized("big.yaml", b"version: 1\n", 4 * MB + 1), "file too large"
    ),
    Generated("scalar_5mb", _sized("s.yaml", b"a: '", 5 * MB, b"x" * 1024), "file too large"),
    Generated("key_1mb_plain", _file("k.yaml", "k" * MB + ": 1\n"), "YAML syntax"),
    Generated(
        "key_1mb_explicit", _file("k.yaml", "? " + "k" * MB + "\n: 1\n"), "unknown key 'kkkkk"
    ),
    Generated(
        "key_1mb_in_job",
        _file(
            "k.yaml",
            JOB
            + "      - name: J\n        task: batch_job\n        job_name: J\n        ? "
            + "k" * MB
            + "\n        : 1\n",
        ),
        "unknown key 'kkkk",
    ),
    Generated(
        "scalar_3mb_in_name",
        _file(
            "n.yaml",
            JOB + "      - {name: '" + "N" * (3 * MB) + "', task: batch_job, job_name: J}\n",
        ),
        "too long (3145728 characters",
    ),
    Generated(
        "scalar_3mb_in_value",
        _file(
            "n.yaml",
            JOB
            + "      - {name: J, task: batch_job, job_name: J, retry: '"
            + "N" * (3 * MB)
            + "'}\n",
        ),
        "retry",
    ),
    Generated(
        "keys_just_under_node_limit",
        _file("m.yaml", b"".join(b"k%d: 1\n" % i for i in range(49_000))),
        "more errors in this file",
    ),
    Generated(
        "jobs_5000_with_cycle",
        _file(
            "j.yaml",
            JOB
            + "".join(
                f"      - {{name: J{i}, task: batch_job, job_name: J, depends_on: [J{(i + 1) % 3000}]}}\n"
                for i in range(3000)
            ),
        ),
        "dependency cycle",
    ),
    Generated(
        "tiny_keys_1_000_000",
        _file("m.yaml", _many_keys(1_000_000)),
        f"more than {MAX_NODES} YAML nodes",
    ),
    Generated(
        "distinct_keys_to_the_limit",
        _file("m.yaml", _distinct_keys(4 * MB - 16)),
        f"more than {MAX_NODES} YAML nodes",
    ),
    Generated("nesting_flow_50000", _file("n.yaml", _nested_flow(50_000)), "nesting deeper than"),
    Generated(
        "nesting_flow_mappings_50000",
        _file("n.yaml", b"a: " + b"{a: " * 50_000 + b"}" * 50_000 + b"\n"),
        "nesting deeper than",
    ),
    Generated(
        "nesting_flow_unclosed_50000",
        _file("n.yaml", b"a: " + b"[" * 50_000 + b"\n"),
        "nesting deeper than",
    ),
    Generated(
        "nesting_block_sequences_50000",
        _file("n.yaml", _nested_block_sequences(50_000)),
        "nesting deeper than",
    ),
    Generated(
        "nesting_block_mappings_2000",
        _file("n.yaml", _nested_block_mappings(2000)),
        "nesting deeper than",
    ),
    Generated("int_5000_digits", _file("i.yaml", "version: " + "9" * 5000 + "\n"), "version"),
    Generated("float_huge_exponent", _file("f.yaml", "version: 1e999999\n"), "version"),
    Generated("alias_to_huge_scalar", _file("a.yaml", _alias_to_huge_scalar()), "unknown key 'x'"),
    Generated(
        "billion_laughs_mapping_keys", _file("b.yaml", _billion_laughs_keys()), "aliases expand"
    ),
    Generated("binary_garbage", _file("g.yaml", bytes(range(1, 256)) * 4000), "not valid UTF-8"),
    Generated(
        "random_bytes",
        _file("r.yaml", bytes((i * 7919 + 13) % 251 + 1 for i in range(50_000))),
        "UTF-8",
    ),
    Generated("nul_bytes", _file("z.yaml", b"version: 1\n\0\0\0\n"), "NUL"),
    Generated("nul_only", _file("z.yaml", b"\0" * 1000), "NUL"),
    Generated(
        "invalid_utf8_in_value",
        _file("u.yaml", b'version: 1\nproperties: {A: "caf\xe9"}\n'),
        "not valid UTF-8",
    ),
    Generated("overlong_utf8", _file("u.yaml", b"version: 1\n# \xc0\xaf\n"), "not valid UTF-8"),
    Generated(
        "utf8_surrogate", _file("u.yaml", b"version: 1\n# \xed\xa0\x80\n"), "not valid UTF-8"
    ),
    Generated(
        "utf16_with_bom",
        _file("w.yaml", "version: 1\nx: 1\n".encode("utf-16")),
        "UTF-16 file (byte order mark): save it as UTF-8",
    ),
    Generated("utf16be_no_bom", _file("w.yaml", "version: 1\n".encode("utf-16-be")), "NUL"),
    Generated("utf32_with_bom", _file("w.yaml", "version: 1\n".encode("utf-32")), "UTF-32"),
    Generated(
        "utf8_bom_then_error",
        _file("b.yaml", "\ufeffversion: 1\nx: 1\n"),
        "b.yaml:2:1: error: unknown key 'x'",
    ),
    Generated(
        "crlf_then_error",
        _file("c.yaml", "version: 1\r\nproperties:\r\n  A: 1\r\nx: 1\r\n"),
        "c.yaml:4:1: error: unknown key 'x'",
    ),
    Generated("cr_only_line_ends", _file("c.yaml", "version: 1\rx: 1\r"), "unknown key 'x'"),
    Generated(
        "escape_sequence_in_key",
        _file("e.yaml", '"\\e[2J\\e]0;pwned\\a": 1\n'),
        "unknown key '\\u001b[2J\\u001b]0;pwned\\u0007'",
    ),
    Generated(
        "include_etc_passwd",
        _with_includes("include: [/etc/passwd]\n", {}),
        "outside the repository",
    ),
    Generated(
        "include_etc_passwd_relative",
        _with_includes("include: [../../../../../../../../etc/passwd]\n", {}),
        "outside the repository",
    ),
    Generated(
        "include_folder",
        _with_includes("include: [sub]\n", {"sub/x.yaml": "version: 1\n"}),
        "a folder, not a file",
    ),
    Generated(
        "include_dev_zero", _with_includes("include: [/dev/zero]\n", {}), "outside the repository"
    ),
    Generated(
        "include_symlink_to_dev_zero",
        _with_includes("include: [zero.yaml]\n", {}, {"zero.yaml": "/dev/zero"}),
        "outside the repository",
    ),
    Generated(
        "include_fifo",
        _with_includes("include: [pipe.yaml]\n", {}, fifo="pipe.yaml"),
        "not a regular file",
    ),
    Generated(
        "include_symlink_outside",
        _with_includes("include: [passwd.yaml]\n", {}, {"passwd.yaml": "/etc/passwd"}),
        "outside the repository",
    ),
    Generated(
        "include_symlink_loop",
        _with_includes("include: [a.yaml]\n", {}, {"a.yaml": "b.yaml", "b.yaml": "a.yaml"}),
        "symlink loop",
    ),
    Generated(
        "include_symlink_self",
        _with_includes("include: [a.yaml]\n", {}, {"a.yaml": "a.yaml"}),
        "symlink loop",
    ),
    Generated(
        "include_dangling_symlink",
        _with_includes("include: [a.yaml]\n", {}, {"a.yaml": "missing.yaml"}),
        "not found",
    ),
    Generated("include_chain_1000", _include_chain(1000), "include"),
    Generated("include_self", _with_includes("include: [main.yaml]\n", {}), "include loop"),
    Generated("include_nul_in_name", _with_includes('include: ["a\\0.yaml"]\n', {}), "include"),
    Generated(
        "include_very_long_name",
        _with_includes("include: [" + "a" * 5000 + ".yaml]\n", {}),
        "include",
    ),
    Generated(
        "include_deep_dots",
        _with_includes("include: [" + "x/../" * 2000 + "main.yaml]\n", {}),
        "include loop",
    ),
    Generated(
        "include_binary",
        _with_includes("include: [bin.yaml]\n", {}, {"bin.yaml": "/bin/sh"}),
        "outside the repository",
    ),
    Generated(
        "root_is_fifo",
        lambda folder: (os.mkfifo(folder / "p.yaml"), folder / "p.yaml")[1],
        "not a regular file",
    ),
    Generated("root_is_dev_zero", lambda folder: Path("/dev/zero"), "not a regular file"),
    Generated(
        "root_symlink_loop",
        lambda folder: (os.symlink("l.yaml", folder / "l.yaml"), folder / "l.yaml")[1],
        "symlink loop",
    ),
    Generated("root_unreadable", lambda folder: _unreadable(folder / "u.yaml"), "cannot read"),
]


def _unreadable(path: Path) -> Path:
    path.write_text("version: 1\n")
    path.chmod(0)
    return path
