"""The default number of jobs: the CPUs the process may use, not the host's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import python_output

from handbook_lint.engine.workers import usable_cpus

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity"), reason="CPU affinity is Linux's"
)

HOST = 64  # the CPUs the process may run on, in these tests: a big CI host


@pytest.fixture(autouse=True)
def big_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(HOST)))


def _cgroups(tmp_path: Path, own: str | bytes, files: dict[str, str]) -> tuple[str, str]:
    """A cgroup mount (folders and files under tmp_path/cgroup) and the process's
    /proc/self/cgroup: what usable_cpus reads."""
    root = tmp_path / "cgroup"
    root.mkdir()
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    proc = tmp_path / "self-cgroup"
    proc.write_bytes(own.encode() if isinstance(own, str) else own)
    return str(root), str(proc)


V1_QUOTA = {"cpu.cfs_quota_us": "200000\n", "cpu.cfs_period_us": "100000\n"}


@pytest.mark.parametrize(
    ("own", "files", "limit"),
    [
        # cgroup v2, the container's own group mounted as the root: half a CPU is one job
        ("0::/\n", {"cpu.max": "50000 100000\n"}, 1),
        ("0::/\n", {"cpu.max": "200000 100000\n"}, 2),
        ("0::/\n", {"cpu.max": "150000 100000\n"}, 2),  # (rounded up)
        # a limit of a group above the process's holds below it too
        ("0::/ci/job\n", {"ci/cpu.max": "300000 100000", "ci/job/cpu.max": "max 100000"}, 3),
        # and the smaller of two limits
        ("0::/ci/job\n", {"ci/cpu.max": "800000 100000", "ci/job/cpu.max": "400000 100000"}, 4),
        # cgroup v1 (cpu,cpuacct), the group's own path not mounted: the mount's files
        (
            "4:cpu,cpuacct:/docker/abc\n3:memory:/docker/abc\n",
            {f"cpu,cpuacct/{name}": text for name, text in V1_QUOTA.items()},
            2,
        ),
        # the controllers listed the other way round: the `cpu` folder
        ("4:cpuacct,cpu:/\n", {f"cpu/{name}": text for name, text in V1_QUOTA.items()}, 2),
        # both hierarchies (this test machine's layout): v2 says nothing, v1 does
        ("0::/\n4:cpu:/\n", {f"cpu/{name}": text for name, text in V1_QUOTA.items()}, 2),
    ],
)
def test_a_cgroup_cpu_quota_caps_the_jobs(
    tmp_path: Path, own: str, files: dict[str, str], limit: int
) -> None:
    assert usable_cpus(*_cgroups(tmp_path, own, files)) == limit


@pytest.mark.parametrize(
    ("own", "files"),
    [
        ("0::/\n", {"cpu.max": "max 100000\n"}),  # no limit
        ("1:cpu:/\n", {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}),
        ("0::/\n", {"cpu.max": "lots\n"}),  # unreadable: no limit, no error
        ("0::/\n", {"cpu.max": "100000 0\n"}),
        ("0::/\n", {"cpu.max": "\xff\xfe\n"}),
        ("garbage\n", {}),
        ("0::/\n", {}),  # no cgroup files at all (not Linux's layout)
        ("3:cpuset:/\n", {"cpuset/cpu.cfs_quota_us": "100000\n"}),  # (cpuset is not cpu)
        # a group outside the cgroup namespace: the namespace's root is not its limit
        ("0::/../../system.slice/x.scope\n", {"cpu.max": "100000 100000\n"}),
        (b"0::/a\xff/b\n", {"cpu.max": "max 100000\n"}),  # a group name that is not UTF-8
    ],
)
def test_without_a_quota_the_jobs_are_the_cpus_it_may_run_on(
    tmp_path: Path, own: str | bytes, files: dict[str, str]
) -> None:
    assert usable_cpus(*_cgroups(tmp_path, own, files)) == HOST


def test_without_a_proc_file_the_jobs_are_the_cpus_it_may_run_on(tmp_path: Path) -> None:
    assert usable_cpus(str(tmp_path), str(tmp_path / "absent")) == HOST


def test_a_group_whose_name_is_not_utf8_is_read(tmp_path: Path) -> None:
    root, own = _cgroups(tmp_path, b"0::/a\xff\n", {})
    folder = os.fsencode(root) + b"/a\xff"
    os.mkdir(folder)
    with open(folder + b"/cpu.max", "w", encoding="utf-8") as quota:
        quota.write("100000 100000\n")
    assert usable_cpus(root, own) == 1


def test_a_process_bound_to_one_cpu_gets_one_job() -> None:
    """As `taskset -c 0` leaves it, though os.cpu_count() still says every core:
    the real affinity of a real process."""
    code = (
        "import os\n"
        "from handbook_lint.engine.workers import usable_cpus\n"
        "os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
        "print(usable_cpus())\n"
    )
    assert python_output(code).split() == ["1"]


def _cgroup_of_one_cpu() -> tuple[Path, str] | None:
    """A new cgroup under this process's own, with a quota of one CPU, and the
    file a process is moved into it with; None where the cgroup file system
    is not this test's to write (not root, a read-only mount, v2 rules)."""
    if os.geteuid() != 0:
        return None
    with open("/proc/self/cgroup", encoding="utf-8", errors="replace") as lines:
        groups = [line.rstrip("\n").split(":", 2) for line in lines]
    for group in groups:
        if len(group) != 3:
            continue
        _, controllers, path = group
        if controllers == "":
            base, quota = Path("/sys/fs/cgroup"), ("cpu.max", "100000 100000")
        elif "cpu" in controllers.split(","):
            base = Path("/sys/fs/cgroup", controllers)
            base = base if base.is_dir() else Path("/sys/fs/cgroup/cpu")
            quota = ("cpu.cfs_quota_us", "100000")
        else:
            continue
        folder = base / path.lstrip("/") / f"handbook-lint-test-{os.getpid()}"
        try:
            folder.mkdir()
        except OSError:
            continue
        try:
            (folder / quota[0]).write_text(quota[1], encoding="utf-8")
            return folder, "cgroup.procs"
        except OSError:
            folder.rmdir()
    return None


def test_a_process_in_a_cgroup_of_one_cpu_gets_one_job() -> None:
    """A real cgroup with a real CPU quota (as a CI runner's container has),
    the process moved into it by the kernel: one job, whatever the affinity."""
    made = _cgroup_of_one_cpu()
    if made is None:
        pytest.skip("needs root and a cgroup file system it may write")
    folder, procs = made
    try:
        code = "from handbook_lint.engine.workers import usable_cpus; print(usable_cpus())"
        out = subprocess.run(
            [
                "sh",
                "-c",
                f'echo $$ > "{folder / procs}" && exec "$0" -c "$1"',
                sys.executable,
                code,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.split() == ["1"]
    finally:
        folder.rmdir()
