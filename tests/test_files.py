"""Every file the tool reads goes through the bounded reader, and every file it writes is new, atomic and
never reached through a symbolic link. Three kinds of guard: the package's source calls no file
function but those of ``sim.files``; every input the tool reads is refused, quickly, when it is a pipe,
a device or too large; and any entry of a results folder turned into a link to somewhere outside
leaves that outside place untouched, whatever command then runs on the folder."""

from __future__ import annotations

import ast
import os
import shutil
import signal
from pathlib import Path

import pytest
import yaml
from catalogue_support import VALID, interrupted, invoke
from conftest import ROOT, SEED_TEXT

from sim.errors import FileError
from sim.files import Folder, read_bounded, write_new
from sim.scenario.limits import MAX_FILE_BYTES

# -- the source: file functions are called in sim/files.py only

MODULE_CALLS = {  # module -> its functions that touch files
    "os": {"open", "replace", "rename", "remove", "unlink", "link", "symlink", "mkfifo", "rmdir", "truncate"},
    "shutil": None,  # all of them
    "json": {"load", "dump"},
    "pd": {"read_parquet", "read_csv", "read_json", "read_table"},
    "pq": {"read_table", "write_table", "ParquetFile", "ParquetWriter"},
}
# (Path.rename and .replace share their names with those of text and tables; os.rename and os.replace are
# caught above, and a Path's are used nowhere.)
PATH_METHODS = {"read_text", "read_bytes", "write_text", "write_bytes", "open", "touch", "symlink_to", "unlink",
                "rmdir", "write_html", "write_image", "to_parquet", "to_csv"}  # fmt: skip
# Receivers of those method names that are the tool's own handles (sim.files.Folder, ResultsFolder) or
# not files at all (text, tables).
OWN_RECEIVERS = {"self.dir", "folder", "self", "folder.dir", "self.folder", "result.folder.dir", "self.chunks",
                 "inner", "handle", "Folder", "ResultsFolder", "cls", "text", "value", "key", "data", "table", "frame",
                 "message", "name", "stem", "where", "prefix", "path.name", "relative", "str"}  # fmt: skip
# pyarrow readers and writers take file objects opened by sim.files in these modules.
PYARROW_MODULES = {"sim/outputs/folder.py", "sim/outputs/chunks.py", "sim/outputs/integrity.py", "sim/outputs/store.py",
                   "sim/experiments/replay.py"}  # fmt: skip
HOOKS = {("sim/experiments/pool.py", "open")}  # the fault-injection hook of the tests writes its marker file


def file_calls(path: Path, module: str) -> list[str]:
    """The calls in a module that touch files other than through sim.files."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "open" and (module, "open") not in HOOKS:
            found.append(f"open() at line {node.lineno}")
        if not isinstance(func, ast.Attribute):
            continue
        receiver = ast.unparse(func.value)
        names = MODULE_CALLS.get(receiver, set())
        if receiver in MODULE_CALLS and (names is None or func.attr in names):
            if receiver == "pq" and module in PYARROW_MODULES:
                continue
            found.append(f"{receiver}.{func.attr} at line {node.lineno}")
        elif func.attr in PATH_METHODS and receiver not in OWN_RECEIVERS and receiver not in MODULE_CALLS:
            found.append(f"{receiver}.{func.attr}() at line {node.lineno}")
    return found


def test_only_sim_files_touches_files():
    found = {}
    for path in sorted((ROOT / "sim").rglob("*.py")):
        module = path.relative_to(ROOT).as_posix()
        if module != "sim/files.py" and (calls := file_calls(path, module)):
            found[module] = calls
    assert found == {}, f"file functions outside sim/files.py (route them through it): {found}"


# -- sim.files itself


def test_create_never_overwrites_anything(tmp_path):
    folder = Folder.open(tmp_path)
    (tmp_path / "file").write_text("old")
    (tmp_path / "target").write_text("target")
    (tmp_path / "link").symlink_to("target")
    (tmp_path / "dangling").symlink_to("nowhere")
    (tmp_path / "dir").mkdir()
    for name in ("file", "link", "dangling", "dir"):
        with pytest.raises(FileError, match="already exists"):
            folder.create(name, lambda handle: handle.write(b"new"))
    assert (tmp_path / "file").read_text() == "old" and (tmp_path / "target").read_text() == "target"
    assert not (tmp_path / "nowhere").exists() and not list(tmp_path.glob(".*.partial"))
    with pytest.raises(FileError, match="already exists"):
        write_new(Path("/dev/null"), lambda handle: handle.write(b"x"))
    folder.create("new", lambda handle: handle.write(b"fresh"))
    assert (tmp_path / "new").read_bytes() == b"fresh"


def test_replace_replaces_a_link_never_its_target(tmp_path):
    (tmp_path / "outside").write_text("keep")
    (tmp_path / "manifest.json").symlink_to("outside")
    Folder.open(tmp_path).replace("manifest.json", lambda handle: handle.write(b"{}"))
    assert (tmp_path / "outside").read_text() == "keep"
    assert not (tmp_path / "manifest.json").is_symlink() and (tmp_path / "manifest.json").read_text() == "{}"


def test_a_folder_reached_through_a_link_is_refused(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to("real")
    with pytest.raises(FileError, match="symbolic link"):
        Folder.open(tmp_path).sub("alias")
    with pytest.raises(FileError, match="symbolic link"):
        Folder.open(tmp_path / "alias")


def test_the_bounded_reader_refuses_what_is_not_a_small_regular_file(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "big").write_bytes(b"x" * 101)
    (tmp_path / "link").symlink_to("big")
    for path, words in [("/dev/zero", "not a regular file"), (tmp_path / "pipe", "not a regular file"),
                        (tmp_path, "is a folder"), (tmp_path / "none", "not found"),
                        (tmp_path / "big", "larger than the limit of 100")]:  # fmt: skip
        with pytest.raises(FileError, match=words):
            read_bounded(path, 100)
    assert read_bounded(tmp_path / "link", 101) == b"x" * 101  # a user's own file may be a link
    with pytest.raises(FileError, match="symbolic link"):
        Folder.open(tmp_path).read_bytes("link", 1000)  # but never one inside a folder the tool keeps


# -- every input, as a pipe, a device or too large


def huge(path: Path) -> None:
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk


BAD = {"pipe": lambda p: os.mkfifo(p), "device": lambda p: p.symlink_to("/dev/zero"), "huge": huge}


def scenario_with(**changes) -> str:
    return yaml.safe_dump({**VALID, **changes})


INPUTS = {  # name -> (files to write, the bad file's name, the command)
    "scenario": ({}, "s.yaml", ["validate", "s.yaml"]),
    "extended file": ({"s.yaml": "extends: base.yaml\n"}, "base.yaml", ["validate", "s.yaml"]),
    "seed": ({"s.yaml": scenario_with(seed="bad.txt")}, "bad.txt", ["validate", "s.yaml"]),
    "reference": ({"s.yaml": scenario_with(references=["bad.md"])}, "bad.md", ["validate", "s.yaml"]),
    "sweep file": ({}, "w.yaml", ["sweep", "w.yaml"]),
    "swept scenario": ({"w.yaml": "scenario: bad.yaml\nvary:\n  actors.alpha.risk: {values: [0.2]}\n"}, "bad.yaml",
                       ["sweep", "w.yaml"]),
    "ktab import": ({}, "k.csv", ["import", "ktab", "k.csv", "-o", "out.yaml"]),
    "bdm import": ({}, "b.csv", ["import", "bdm", "b.csv", "-o", "out.yaml"]),
}  # fmt: skip


class HungError(Exception):
    pass


def within(seconds: int, args: list[str], cwd: Path) -> tuple[int, str, str]:
    """The command line in this process, interrupted if it takes longer than ``seconds``."""

    def hang(*_):
        raise HungError(f"{args} did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        return invoke(args, cwd)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("bad", list(BAD))
@pytest.mark.parametrize("source", list(INPUTS))
def test_every_input_refuses_a_pipe_a_device_or_a_huge_file(tmp_path, source, bad):
    files, name, args = INPUTS[source]
    (tmp_path / "seed.txt").write_text(SEED_TEXT)
    if "s.yaml" not in files and name != "s.yaml":
        (tmp_path / "s.yaml").write_text(yaml.safe_dump(VALID))
    for file, text in files.items():
        (tmp_path / file).write_text(text)
    BAD[bad](tmp_path / name)
    code, out, err = within(30, args, tmp_path)
    assert code == 2, out + err
    reasons = ("not a regular file", "larger than the limit", "lies outside the folder")  # a link to /dev: outside
    assert name in err and any(reason in err for reason in reasons), err
    assert not (tmp_path / "out.yaml").exists()


FOLDER_FILES = ["manifest.json", "summary.json", "runs.parquet", "report.html"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("files")
    (root / "seed.txt").write_text(SEED_TEXT)
    (root / "s.yaml").write_text(yaml.safe_dump(VALID))
    code, _, err = invoke(["run", "s.yaml", "-n", "30", "-q", "--workers", "1", "--out", "done"], root)
    assert code == 0, err
    interrupted(root, "half")
    return root


@pytest.mark.parametrize("bad", ["pipe", "device"])
@pytest.mark.parametrize("name", FOLDER_FILES)
def test_a_results_folder_refuses_a_pipe_or_a_device_in_place_of_a_file(project, tmp_path, name, bad):
    shutil.copytree(project / "done", tmp_path / "done", symlinks=True)
    (tmp_path / "done" / name).unlink()
    BAD[bad](tmp_path / "done" / name)
    for args in (["verify", "done"], ["replay", "done", "--run", "0"], ["compare", "done", "--out", "c.html"]):
        code, out, err = within(30, args, tmp_path)
        assert code == 2 and "Traceback" not in err, (args, out + err)
    assert not (tmp_path / "c.html").exists()


# -- every entry of a results folder, as a link to somewhere outside


def entries(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


COMMANDS = {
    "done": [["verify", "done"], ["replay", "done", "--run", "1", "--html", "page.html"],
             ["compare", "done", "--out", "c.html"], ["run", "--resume", "done"]],
    "half": [["run", "--resume", "half"], ["verify", "half"], ["compare", "half", "--out", "c.html"]],
}  # fmt: skip


def outside_state(root: Path) -> dict[str, bytes | str]:
    """Everything in the outside folder: each file's bytes, each folder as such."""
    return {p.relative_to(root).as_posix(): p.read_bytes() if p.is_file() else "folder"
            for p in (root / "outside").rglob("*")}  # fmt: skip


@pytest.mark.parametrize("kind", list(COMMANDS))
def test_no_entry_of_a_results_folder_is_followed_as_a_link(project, tmp_path, kind):
    """Each entry in turn (files, the chunk folder and the files in it) is moved outside and replaced
    by a link to it; every command then leaves the outside copy byte for byte as it was."""
    assert len(entries(project / kind)) >= 4
    for entry in entries(project / kind):
        root = tmp_path / entry.replace("/", "_")
        root.mkdir()
        shutil.copy(project / "s.yaml", root / "s.yaml")
        shutil.copy(project / "seed.txt", root / "seed.txt")
        shutil.copytree(project / kind, root / kind, symlinks=True)
        (root / "outside").mkdir()
        target = root / "outside" / Path(entry).name
        shutil.move(root / kind / entry, target)
        depth = entry.count("/")
        (root / kind / entry).symlink_to(Path(*([".."] * (depth + 1)), "outside", Path(entry).name))
        before = outside_state(root)
        for args in COMMANDS[kind]:
            code, out, err = within(60, args, root)
            assert code in (0, 2), (entry, args, out + err)
            assert "Traceback" not in out + err and "internal error" not in out + err, (entry, args, out + err)
            assert outside_state(root) == before, f"{args} wrote through the link {entry}"
