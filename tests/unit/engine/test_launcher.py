"""The launcher says clearly what is wrong: a busy port, no Maven, a failed build, a start that dies."""

import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from engine import EngineError, LocalCluster, LocalEngine, build, launcher, port_for_tests
from engine.java import JavaRuntime, find_java
from tests.support.servers import serving


def test_a_busy_port_is_named_with_how_to_find_its_owner(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(EngineError, match=f"Port {port} .*already in use.*ss -ltnp"):
            LocalEngine(data_dir=tmp_path, port=port)._check_port_free()


def test_building_without_maven_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "is_current", lambda: False)
    monkeypatch.setattr(build.shutil, "which", lambda name: None)
    with pytest.raises(EngineError, match="needs Maven"):
        build.build(JavaRuntime(Path("/usr/bin/java"), 17))


def test_a_failed_build_shows_the_end_of_mavens_output(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_mvn = tmp_path / "mvn"
    fake_mvn.write_text("#!/bin/sh\necho '[ERROR] Could not resolve dependencies for project lapor-engine'\nexit 1\n")
    fake_mvn.chmod(0o755)
    monkeypatch.setattr(build, "is_current", lambda: False)
    monkeypatch.setattr(build.shutil, "which", lambda name: str(fake_mvn))
    with pytest.raises(EngineError, match=r"(?s)Maven build of engine/ failed.*Could not resolve dependencies"):
        build.build(JavaRuntime(Path("/usr/bin/java"), 17))


def test_the_jar_is_rebuilt_only_when_the_sources_change(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(build, "is_current", lambda: True)
    monkeypatch.setattr(build.subprocess, "run", lambda *a, **k: calls.append("mvn"))
    assert build.build(JavaRuntime(Path("/usr/bin/java"), 17)) == build.JAR
    assert calls == []
    assert len(build.source_hash()) == 64


def test_no_java_of_the_right_version_says_what_was_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.java._candidates", lambda: [Path("/nonexistent/bin/java")])
    with pytest.raises(EngineError, match="needs Java 17"):
        find_java(minimum=17, purpose="The Operaton engine")


def test_an_engine_that_dies_while_starting_shows_its_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "fake-java"
    script.write_text("#!/bin/sh\necho 'APPLICATION FAILED TO START: port in use'\nexit 3\n")
    script.chmod(0o755)
    monkeypatch.setattr(launcher, "find_java", lambda **kw: JavaRuntime(script, 17))
    monkeypatch.setattr(launcher, "build", lambda java: tmp_path / "lapor-engine.jar")
    engine = LocalEngine(data_dir=tmp_path, port=port_for_tests(90))
    with pytest.raises(EngineError, match=r"(?s)exited with code 3.*APPLICATION FAILED TO START"):
        engine.start(timeout=20)
    assert not engine.running()


def test_a_cluster_is_nodes_on_consecutive_ports_with_their_own_names_on_one_database(tmp_path: Path) -> None:
    cluster = LocalCluster(
        data_dir=tmp_path,
        database_url="jdbc:postgresql://127.0.0.1:5432/lapor_engine",
        database_user="lapor",
        database_password="lapor",
        nodes=3,
        first_port=18161,
    )
    assert [n.port for n in cluster.members] == [18161, 18162, 18163]
    assert [n.node_name for n in cluster.members] == ["lapor-engine-1", "lapor-engine-2", "lapor-engine-3"]
    assert {n.database_url for n in cluster.members} == {"jdbc:postgresql://127.0.0.1:5432/lapor_engine"}
    assert len({n.data_dir for n in cluster.members}) == 3  # each node its own log
    # Every node backs off after a lost acquisition race and hands a dead node's jobs on after a minute.
    env = cluster.members[0]._job_acquisition_env()
    assert env["LAPOR_ENGINE_JOB_BACKOFF"] == "50" and env["LAPOR_ENGINE_JOB_LOCK_TIME"] == "60000"


def test_a_cluster_refuses_a_database_its_nodes_cannot_share(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="jdbc:postgresql"):
        LocalCluster(data_dir=tmp_path, database_url="jdbc:h2:mem:x", database_user="sa", database_password="")


def test_the_acquisition_settings_are_the_ones_application_yaml_reads() -> None:
    yaml_text = (build.ENGINE_DIR / "src" / "main" / "resources" / "application.yaml").read_text()
    engine = LocalEngine(data_dir=Path("/nonexistent"), job_wait_ms=1, job_acquisition_size=1, job_backoff_ms=1)
    engine.job_max_backoff_ms = engine.job_lock_ms = 1
    for variable in engine._job_acquisition_env():
        assert "${" + variable + ":" in yaml_text, variable


class _Answers(BaseHTTPRequestHandler):
    status = 401

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"type": "x", "message": "refused"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("status", [401, 503])
def test_the_readiness_probe_names_a_refused_admin_and_waits_on_anything_else(tmp_path: Path, status: int) -> None:
    handler = type("Answers", (_Answers,), {"status": status})
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as server:
        engine = LocalEngine(data_dir=tmp_path, port=server.server_address[1])
        if status == 401:
            with pytest.raises(EngineError, match="refused the administrator login 'admin'"):
                engine._ready()
        else:
            assert engine._ready() is False
