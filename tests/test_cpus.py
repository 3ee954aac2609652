"""The default number of jobs: the CPUs the process may use, not the host's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from handbook_lint.engine.workers import usable_cpus

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity"), reason="CPU affinity is Linux's"
)


def _affinity() -> int:
    return len(os.sched_getaffinity(0))


def _cgroups(tmp_path: Path, own: str, files: dict[str, str]) -> tuple[str, str]:
    """A cgroup mount (folders and files under tmp_path/cgroup) and the process's
    /proc/self/cgroup: what usable_cpus reads."""
    root = tmp_path / "cgroup"
    root.mkdir()
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (tmp_path / "self-cgroup").write_text(own, encoding="utf-8")
    return str(root), str(tmp_path / "self-cgroup")


@pytest.mark.parametrize(
    ("own", "files", "limit"),
    [
        # cgroup v2, the container's own group mounted as the root: half a CPU is one job
        ("0::/\n", {"cpu.max": "50000 100000\n"}, 1),
        ("0::/\n", {"cpu.max": "100000 100000\n"}, 1),
        # a limit of an ancestor of the process's group holds below it too
        ("0::/ci/job\n", {"ci/cpu.max": "100000 100000", "ci/job/cpu.max": "max 100000"}, 1),
        # cgroup v1 (cpu,cpuacct), the group's own path not mounted: the mount's files
        (
            "4:cpu,cpuacct:/docker/abc\n3:memory:/docker/abc\n",
            {
                "cpu,cpuacct/cpu.cfs_quota_us": "100000\n",
                "cpu,cpuacct/cpu.cfs_period_us": "100000\n",
            },
            1,
        ),
    ],
)
def test_a_cgroup_cpu_quota_caps_the_jobs(
    tmp_path: Path, own: str, files: dict[str, str], limit: int
) -> None:
    if _affinity() < 2:
        pytest.skip("a cap shows only below the CPUs the process may run on")
    assert usable_cpus(*_cgroups(tmp_path, own, files)) == limit


def test_one_and_a_half_cpus_are_two_jobs(tmp_path: Path) -> None:
    if _affinity() < 3:
        pytest.skip("a cap of two shows only below three CPUs")
    assert usable_cpus(*_cgroups(tmp_path, "0::/\n", {"cpu.max": "150000 100000\n"})) == 2


@pytest.mark.parametrize(
    ("own", "files"),
    [
        ("0::/\n", {"cpu.max": "max 100000\n"}),  # no limit
        ("1:cpu:/\n", {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}),
        ("0::/\n", {"cpu.max": "lots\n"}),  # unreadable: no limit, no error
        ("0::/\n", {"cpu.max": "100000 0\n"}),
        ("garbage\n", {}),
        ("0::/\n", {}),  # no cgroup files at all (not Linux's layout)
    ],
)
def test_without_a_quota_the_jobs_are_the_cpus_it_may_run_on(
    tmp_path: Path, own: str, files: dict[str, str]
) -> None:
    assert usable_cpus(*_cgroups(tmp_path, own, files)) == _affinity()


def test_without_a_proc_file_the_jobs_are_the_cpus_it_may_run_on(tmp_path: Path) -> None:
    assert usable_cpus(str(tmp_path), str(tmp_path / "absent")) == _affinity()


def test_a_process_bound_to_one_cpu_gets_one_job() -> None:
    """As `taskset -c 0` leaves it: os.cpu_count() still says every core."""
    code = (
        "import os\n"
        "from handbook_lint.engine.workers import usable_cpus\n"
        "os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
        "print(usable_cpus(), os.cpu_count())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == "1"
    assert int(out[1]) == os.cpu_count()
