from __future__ import annotations

import json
import sqlite3

from tests.cli.conftest import Vdctui


def running_vm(vdctui: Vdctui) -> dict:  # type: ignore[type-arg]
    return vdctui.json("vm", "list", "--state", "running")[0]


def test_emulate_prints_a_summary(vdctui: Vdctui) -> None:
    result = vdctui("emulate", "--for", "10m")
    assert result.exit_code == 0, result.output
    for word in ("VMs:", "migrations:", "host failures:", "energy:"):
        assert word in result.stdout
    assert "applies" not in result.stderr


def test_emulate_says_when_sizes_are_for_a_new_data_center(vdctui: Vdctui) -> None:
    result = vdctui("emulate", "--hosts", "99", "--for", "1s")
    assert result.exit_code == 0
    assert "apply to a new one" in result.stderr


def test_host_list_json(vdctui: Vdctui) -> None:
    hosts = vdctui.json("host", "list")
    assert len(hosts) == 8
    assert {"name", "state", "rack", "cpus", "memory_mib"} <= set(hosts[0])
    assert all(h["state"] == "up" for h in hosts)


def test_vm_list_json_and_filters(vdctui: Vdctui) -> None:
    vms = vdctui.json("vm", "list")
    assert len(vms) == 40
    assert {"name", "state", "host", "vcpus", "memory_mib"} <= set(vms[0])
    running = vdctui.json("vm", "list", "--state", "running")
    assert running and all(v["state"] == "running" for v in running)
    host = vms[0]["host"]
    assert all(v["host"] == host for v in vdctui.json("vm", "list", "--host", host))


def test_vm_list_table_for_people(vdctui: Vdctui) -> None:
    result = vdctui("vm", "list")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split()[:3] == ["NAME", "STATE", "HOST"]


def test_unknown_host_filter_is_an_error(vdctui: Vdctui) -> None:
    result = vdctui("vm", "list", "--host", "atlantis")
    assert result.exit_code == 1
    assert result.stderr.strip() == "vdctui: There is no host named 'atlantis'."


def test_bad_state_is_a_usage_error(vdctui: Vdctui) -> None:
    result = vdctui("vm", "list", "--state", "dancing")
    assert result.exit_code == 2
    assert "unknown VM state" in result.stderr


def test_stop_takes_time_and_the_fleet_lives_on(vdctui: Vdctui) -> None:
    name = running_vm(vdctui)["name"]
    result = vdctui("vm", "stop", name, "--yes")
    assert result.exit_code == 0, result.output
    assert "in shutdown" in result.stdout or "shut off" in result.stdout
    vdctui("emulate", "--for", "2m")
    (vm,) = [v for v in vdctui.json("vm", "list") if v["name"] == name]
    assert vm["state"] == "shut off"
    assert vdctui("vm", "start", name).exit_code == 0
    assert [v["state"] for v in vdctui.json("vm", "list") if v["name"] == name] == ["running"]


def test_bad_input_is_one_sentence_and_an_audit_record(vdctui: Vdctui) -> None:
    name = running_vm(vdctui)["name"]
    for args in (
        ["vm", "resize", name, "--vcpus", "-3"],
        ["vm", "resize", name, "--vcpus", "4096"],
        ["vm", "start", "ghost"],
        ["vm", "migrate", name, "--to", "atlantis"],
    ):
        result = vdctui(*args)
        assert result.exit_code == 1, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.output
    refusals = vdctui.json("audit", "list")
    assert [r["result"] for r in refusals[:4]] == ["refused"] * 4


def test_memory_size_typo_is_a_usage_error(vdctui: Vdctui) -> None:
    result = vdctui("vm", "resize", running_vm(vdctui)["name"], "--memory", "8 apples")
    assert result.exit_code == 2
    assert "not a memory size" in result.stderr


def test_resize_memory(vdctui: Vdctui) -> None:
    vm = running_vm(vdctui)
    result = vdctui("vm", "resize", vm["name"], "--memory", f"{vm['max_memory_mib']}MiB")
    assert result.exit_code == 0, result.output
    (after,) = [v for v in vdctui.json("vm", "list") if v["name"] == vm["name"]]
    assert after["memory_mib"] == vm["max_memory_mib"]


def test_read_only_refuses_and_says_so(vdctui: Vdctui) -> None:
    name = running_vm(vdctui)["name"]
    result = vdctui("vm", "destroy", name, "--yes", read_only=True)
    assert result.exit_code == 1
    assert "read-only" in result.stderr
    assert running_vm(vdctui)["state"] == "running"
    assert vdctui.json("audit", "list")[0]["role"] == "viewer"


def test_create_count(vdctui: Vdctui) -> None:
    result = vdctui(
        "--json", "vm", "create", "cache", "--flavor", "small", "--pool", "web", "--count", "2"
    )
    assert result.exit_code == 0, result.output
    assert [v["name"] for v in json.loads(result.stdout)] == ["cache-01", "cache-02"]
    assert len(vdctui.json("vm", "list", "--pool", "web")) >= 2


def test_migrate_and_history(vdctui: Vdctui) -> None:
    vm = running_vm(vdctui)
    hosts = [h["name"] for h in vdctui.json("host", "list") if h["name"] != vm["host"]]
    for target in hosts:  # the first host with room and a path to the VM's datastore
        result = vdctui("vm", "migrate", vm["name"], "--to", target)
        if result.exit_code == 0:
            break
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.stdout
    (record,) = vdctui.json("migration", "list", "--vm", vm["name"])
    assert (record["source"], record["target"], record["outcome"]) == (
        vm["host"],
        target,
        "succeeded",
    )
    tasks = vdctui.json("task", "list")
    assert tasks[0]["kind"] == "migrate" and tasks[0]["state"] == "succeeded"


def test_pool_list(vdctui: Vdctui) -> None:
    pools = vdctui.json("pool", "list")
    assert {p["pool"]["name"] for p in pools} >= {"web", "db"}
    assert sum(p["vm_count"] for p in pools) == 40


def test_audit_verify_names_a_tampered_record(vdctui: Vdctui) -> None:
    name = running_vm(vdctui)["name"]
    vdctui("vm", "suspend", name)
    vdctui("vm", "resume", name)
    assert vdctui("audit", "verify").exit_code == 0
    with sqlite3.connect(vdctui.db) as conn:
        conn.execute("UPDATE audit SET actor = 'mallory' WHERE id = 1")
    result = vdctui("audit", "verify")
    assert result.exit_code == 1
    assert "record 1" in result.stderr


def test_audit_export(vdctui: Vdctui) -> None:
    vdctui("vm", "start", "ghost")
    csv_out = vdctui("audit", "export", "--format", "csv")
    assert csv_out.exit_code == 0 and "ghost" in csv_out.stdout
    rows = json.loads(vdctui("audit", "export", "--format", "json").stdout)
    assert rows[-1]["target"] == "ghost" and rows[-1]["result"] == "refused"


def test_two_dbs_are_two_data_centers(vdctui: Vdctui, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    other = Vdctui(tmp_path_factory.mktemp("other") / "vdctui.db")
    assert other("emulate", "--hosts", "4", "--vms", "10", "--for", "1s").exit_code == 0
    assert len(other.json("host", "list")) == 4
    assert len(vdctui.json("host", "list")) == 8


def test_destroy_asks_first_and_a_script_must_say_yes(vdctui: Vdctui) -> None:
    name = running_vm(vdctui)["name"]
    result = vdctui("vm", "destroy", name)
    assert result.exit_code == 1
    assert "needs confirmation: add --yes" in result.stderr
    assert running_vm(vdctui)["name"] == name  # still running
    assert vdctui("vm", "destroy", name, "--yes").exit_code == 0
    assert [v["state"] for v in vdctui.json("vm", "list") if v["name"] == name] == ["shut off"]


def test_a_demo_too_big_for_its_hosts_is_one_sentence(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = Vdctui(tmp_path / "dc.db")("emulate", "--hosts", "1", "--vms", "5000", "--for", "1s")
    assert result.exit_code == 1
    assert "more hosts or fewer VMs" in result.stderr and "Traceback" not in result.output


def test_a_damaged_fleet_file_is_one_sentence(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "dc.fleet.db").write_text("not a database")
    result = Vdctui(tmp_path / "dc.db")("host", "list")
    assert result.exit_code == 1
    assert "Cannot open the emulated data center" in result.stderr
